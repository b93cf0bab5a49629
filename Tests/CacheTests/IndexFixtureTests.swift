import Foundation
import Testing

/// Deterministic vectors for the index tests and the benchmark: clustered like sentence
/// embeddings (many near-duplicates around topics), not uniform noise, where nearest neighbours
/// are meaningless and HNSW recall is needlessly hard.
struct ClusteredVectors {
    private var state: UInt64
    let dimension: Int
    let centres: [[Float]]
    /// Spread of points around their centre, relative to the centre's unit length.
    let spread: Float

    init(dimension: Int, clusters: Int, spread: Float = 0.6, seed: UInt64) {
        self.state = seed
        self.dimension = dimension
        self.spread = spread
        var centres: [[Float]] = []
        var rng = SplitMix(state: seed ^ 0xC0FFEE)
        for _ in 0..<clusters { centres.append(Self.unit((0..<dimension).map { _ in rng.gaussian() })) }
        self.centres = centres
    }

    /// The next vector: a random centre plus Gaussian noise.
    mutating func next() -> [Float] {
        var rng = SplitMix(state: state)
        let centre = centres[Int(rng.next() % UInt64(centres.count))]
        let scale = spread / Float(dimension).squareRoot()
        let v = (0..<dimension).map { centre[$0] + scale * rng.gaussian() }
        state = rng.state
        return v
    }

    mutating func take(_ n: Int) -> [[Float]] { (0..<n).map { _ in next() } }

    static func unit(_ v: [Float]) -> [Float] {
        let n = v.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / n }
    }
}

/// SplitMix64 with a Box–Muller Gaussian.
struct SplitMix {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }

    mutating func gaussian() -> Float {
        let u1 = max(uniform(), 1e-7), u2 = uniform()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

@Suite struct IndexFixtureTests {
    @Test func clusteredVectorsAreDeterministicAndClustered() {
        var a = ClusteredVectors(dimension: 64, clusters: 4, seed: 1)
        var b = ClusteredVectors(dimension: 64, clusters: 4, seed: 1)
        #expect(a.take(10) == b.take(10))
        // Every point is much closer to some centre than two random directions are to each other.
        let v = ClusteredVectors.unit(a.next())
        let best = a.centres.map { c in zip(c, v).reduce(Float(0)) { $0 + $1.0 * $1.1 } }.max() ?? 0
        #expect(best > 0.7)
    }
}
