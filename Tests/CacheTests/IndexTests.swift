@testable import Cache
import Testing

/// The exact index: cosine ranking, replacement, removal (swap-remove keeps ids right), bad
/// vectors refused, and the switch to HNSW and back.
@Suite struct IndexTests {
    @Test func exactSearchRanksByCosineBestFirst() {
        let index = VectorIndex(dimension: 3)
        #expect(index.insert(id: 1, vector: [1, 0, 0]))
        #expect(index.insert(id: 2, vector: [0, 10, 0]))  // scale does not matter: normalized
        #expect(index.insert(id: 3, vector: [1, 1, 0]))
        let matches = index.search([2, 0.1, 0], k: 3)
        #expect(matches.map(\.id) == [1, 3, 2])
        #expect(abs((matches.first?.similarity ?? 0) - 0.99875) < 1e-4)
        #expect(index.search([0, 1, 0], k: 1) == [VectorMatch(id: 2, similarity: 1)])
        #expect(index.kind == "exact")
        #expect(index.count == 3)
    }

    @Test func insertReplacesTheSameIdAndRemoveKeepsTheOthersFindable() {
        let index = VectorIndex(dimension: 4)
        for i in 0..<10 {
            var v = [Float](repeating: 0.01, count: 4)
            v[i % 4] = Float(i + 1)
            index.insert(id: UInt64(i), vector: v)
        }
        index.insert(id: 3, vector: [0, 0, 0, 1])
        #expect(index.count == 10)
        #expect(index.search([0, 0, 0, 1], k: 1).first?.id == 3)
        // Removing early slots moves later rows into them; every remaining id must still be found.
        for id: UInt64 in [0, 1, 3] { index.remove(id: id) }
        index.remove(id: 99)
        #expect(index.count == 7)
        #expect(!index.contains(id: 3))
        let all = index.search([1, 1, 1, 1], k: 100)
        #expect(Set(all.map(\.id)) == Set([2, 4, 5, 6, 7, 8, 9]))
        #expect(index.search([0, 0, 0, 1], k: 1).first?.id == 7)
    }

    @Test func badVectorsAreRefused() {
        let index = VectorIndex(dimension: 3)
        #expect(!index.accepts([1, 2]))
        #expect(!index.accepts([0, 0, 0]))
        #expect(!index.accepts([1, .nan, 0]))
        #expect(!index.accepts([1, .infinity, 0]))
        #expect(index.accepts([1, 2, 3]))
        #expect(!index.insert(id: 1, vector: [1, .nan, 0]))
        #expect(!index.insert(id: 1, vector: [1, 2]))
        #expect(index.count == 0)
        #expect(index.search([1, 2], k: 1).isEmpty)
        #expect(index.search([0, 0, 0], k: 1).isEmpty)
        index.insert(id: 1, vector: [1, 2, 3])
        #expect(index.search([1, 2, 3], k: 0).isEmpty)
    }

    @Test func topKMatchesAFullSort() {
        var data = ClusteredVectors(dimension: 32, clusters: 5, seed: 7)
        let vectors = data.take(500)
        let index = VectorIndex(dimension: 32)
        for (i, v) in vectors.enumerated() { index.insert(id: UInt64(i), vector: v) }
        let q = data.next()
        let uq = ClusteredVectors.unit(q)
        let expected = vectors.enumerated()
            .map { (UInt64($0.offset), zip(ClusteredVectors.unit($0.element), uq).reduce(Float(0)) { $0 + $1.0 * $1.1 }) }
            .sorted { $0.1 > $1.1 }.prefix(10).map(\.0)
        #expect(index.search(q, k: 10).map(\.id) == Array(expected))
        #expect(index.search(q, k: 1).map(\.id) == [expected[0]])
    }

    @Test func switchesToHNSWAtTheThresholdAndBackBelowHalf() {
        let config = VectorIndexConfiguration(hnswThreshold: 200, m: 8, efConstruction: 64, efSearch: 32)
        let index = VectorIndex(dimension: 16, configuration: config)
        var data = ClusteredVectors(dimension: 16, clusters: 8, seed: 3)
        let vectors = data.take(300)
        for i in 0..<199 { index.insert(id: UInt64(i), vector: vectors[i]) }
        #expect(index.kind == "exact")
        index.insert(id: 199, vector: vectors[199])
        #expect(index.kind == "hnsw")
        #expect(index.count == 200)
        for i in 200..<300 { index.insert(id: UInt64(i), vector: vectors[i]) }
        #expect(index.count == 300)
        // Every stored vector finds itself.
        for i in stride(from: 0, to: 300, by: 7) { #expect(index.search(vectors[i], k: 1).first?.id == UInt64(i)) }
        // Replacing an id in the graph: the old vector no longer answers for it.
        index.insert(id: 5, vector: vectors[6])
        #expect(index.count == 300)
        #expect(Set(index.search(vectors[6], k: 2).map(\.id)) == [5, 6])
        for i in 0..<201 { index.remove(id: UInt64(i)) }
        #expect(index.count == 99)
        #expect(index.kind == "exact")
        #expect(index.search(vectors[250], k: 1).first?.id == 250)
        #expect(index.memoryBytes > 99 * 16 * 4)
    }

    @Test func bulkLoadBuildsTheGraphOnce() {
        var data = ClusteredVectors(dimension: 16, clusters: 4, seed: 11)
        let vectors = data.take(150)
        var entries: [(id: UInt64, vector: [Float])] = vectors.enumerated().map { (id: UInt64($0.offset), vector: $0.element) }
        entries.append((id: 999, vector: [Float](repeating: .nan, count: 16)))
        let index = VectorIndex(dimension: 16, configuration: .init(hnswThreshold: 100), entries: entries)
        #expect(index.kind == "hnsw")
        #expect(index.count == 150)
        #expect(index.search(vectors[42], k: 1).first?.id == 42)
        let small = VectorIndex(dimension: 16, configuration: .init(hnswThreshold: 1000), entries: entries)
        #expect(small.kind == "exact")
        #expect(small.count == 150)
    }
}

/// Above `synchronousBuildLimit` the graph is built a step per insert (or `maintain()` call):
/// searches stay exact and correct meanwhile, removals and replacements during the build are
/// honoured, and the finished graph holds exactly the live entries.
@Suite struct IndexIncrementalBuildTests {
    @Test func largeNamespacesBuildTheGraphInStepsAndStayCorrect() {
        let config = VectorIndexConfiguration(hnswThreshold: 300, m: 8, efConstruction: 48, efSearch: 48, synchronousBuildLimit: 100, buildStep: 10)
        let index = VectorIndex(dimension: 16, configuration: config)
        var data = ClusteredVectors(dimension: 16, clusters: 6, seed: 21)
        let vectors = data.take(400)
        for i in 0..<300 { index.insert(id: UInt64(i), vector: vectors[i]) }
        // The crossing insert did one step only.
        #expect(index.kind == "exact")
        #expect(index.graphBuildBacklog == 290)
        #expect(index.count == 300)
        // During the build: replace one id, remove a few, add new ones; exact answers throughout.
        index.insert(id: 3, vector: vectors[350])
        for id: UInt64 in [0, 1, 2] { index.remove(id: id) }
        #expect(index.search(vectors[350], k: 1).first?.id == 3)
        for i in 301..<320 { index.insert(id: UInt64(i), vector: vectors[i]) }
        #expect(index.kind == "exact")
        #expect(index.count == 316)
        while index.maintain(budget: 50) {}
        #expect(index.kind == "hnsw")
        #expect(index.graphBuildBacklog == 0)
        #expect(index.count == 316)
        var ids = Set<UInt64>()
        index.forEachID { ids.insert($0) }
        #expect(ids == Set((3..<300).map(UInt64.init) + (301..<320).map(UInt64.init)))
        #expect(index.search(vectors[350], k: 1).first?.id == 3)
        for i in stride(from: 5, to: 300, by: 13) { #expect(index.search(vectors[i], k: 1).first?.id == UInt64(i)) }
        #expect(!index.maintain())
    }

    @Test func shrinkingDuringTheBuildAbandonsIt() {
        let config = VectorIndexConfiguration(hnswThreshold: 200, m: 8, efConstruction: 32, synchronousBuildLimit: 50, buildStep: 5)
        let index = VectorIndex(dimension: 8, configuration: config)
        var data = ClusteredVectors(dimension: 8, clusters: 3, seed: 4)
        let vectors = data.take(200)
        for (i, v) in vectors.enumerated() { index.insert(id: UInt64(i), vector: v) }
        #expect(index.graphBuildBacklog > 0)
        for i in 0..<120 { index.remove(id: UInt64(i)) }
        #expect(index.graphBuildBacklog == 0)
        #expect(index.kind == "exact")
        #expect(index.count == 80)
        #expect(index.search(vectors[150], k: 1).first?.id == 150)
    }
}
