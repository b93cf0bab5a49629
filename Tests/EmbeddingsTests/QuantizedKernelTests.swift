import CBulkheadKernels
import Foundation
import BulkheadEmbeddings
import Testing

/// The kernels of `CBulkheadKernels`. The int8 GEMM: every instruction-set path this CPU has (VNNI, AVX2,
/// portable C) against a plain Swift reference, on shapes with row, column and depth tails.
@Suite struct QuantizedKernelTests {
    /// Deterministic pseudo-random values in [-1, 1) (no seeds shared with other tests).
    struct Values {
        var state: UInt64
        mutating func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: state >> 11) % 2_000_000) / 1_000_000 - 1
        }
    }

    @Test(arguments: [(1, 16, 4), (7, 40, 10), (13, 64, 384), (5, 80, 36)])
    func everyPathMatchesTheReference(_ shape: (Int, Int, Int)) throws {
        let (m, n, k) = shape
        var values = Values(state: UInt64(m * 1000 + n * 10 + k))
        let x = (0..<(m * k)).map { _ in values.next() * 3 }
        let w = (0..<(n * k)).map { _ in values.next() }
        let bias = (0..<n).map { _ in values.next() }
        let layer = QuantizedLinear(weight: w, bias: bias, inFeatures: k, outFeatures: n)
        // Per-output-row symmetric weights, as the layer quantizes them.
        var qw = [Int8](repeating: 0, count: n * k)
        var wScales = [Float](repeating: 0, count: n)
        for j in 0..<n {
            let m = w[(j * k)..<((j + 1) * k)].reduce(0) { max($0, abs($1)) }
            wScales[j] = m > 0 ? m / 127 : 1
            for c in 0..<k { qw[j * k + c] = Int8(max(-127, min(127, (w[j * k + c] / wScales[j]).rounded()))) }
        }
        var packed = [Int8](repeating: 0, count: bh_qgemm_packed_bytes(Int32(n), Int32(k)))
        var rowSums = [Int32](repeating: 0, count: n)
        bh_qgemm_pack(qw, Int32(n), Int32(k), &packed, &rowSums)

        // Reference: the same quantization of x, exact integer dot products, then the scales.
        let k4 = Int(bh_qgemm_padded_k(Int32(k)))
        var qa = [Int8](repeating: 0, count: m * k4)
        var aScales = [Float](repeating: 0, count: m)
        bh_quantize_rows(x, Int32(m), Int32(k), &qa, &aScales)
        for gelu in [false, true] {
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var acc: Int32 = 0
                    for c in 0..<k { acc += Int32(qa[i * k4 + c]) * Int32(qw[j * k + c]) }
                    let v = Float(acc) * aScales[i] * wScales[j] + bias[j]
                    expected[i * n + j] = gelu ? 0.5 * v * (1 + erff(v * 0.70710678)) : v
                }
            }
            var features: [Int32] = [0]
            let cpu = bh_kernels_cpu_features()
            if cpu & 1 != 0 { features.append(1) }
            if cpu & 2 != 0 { features.append(3) }
            for f in features {
                var y = [Float](repeating: .nan, count: m * n)
                // Two column ranges, as the threaded split calls it.
                let half = Int32(n >= 32 ? (n / 2 + 15) / 16 * 16 : n)
                bh_qgemm_using(f, Int32(m), Int32(n), Int32(k), qa, aScales, packed, rowSums, wScales, bias, &y, 0, half, gelu ? 1 : 0)
                bh_qgemm_using(f, Int32(m), Int32(n), Int32(k), qa, aScales, packed, rowSums, wScales, bias, &y, half, Int32(n), gelu ? 1 : 0)
                let worst = zip(y, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .nan
                #expect(worst < 1e-5, "features \(f), gelu \(gelu), shape \(shape): max relative error \(worst)")
            }
            // And the layer's own entry point (dispatch + threading) on fp32 input.
            let y = try layer(x, rows: m, gelu: gelu)
            let worst = zip(y, expected).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? .nan
            #expect(worst < 1e-5, "forward, gelu \(gelu), shape \(shape): max relative error \(worst)")
        }
        #expect(throws: EmbeddingError.self) { try layer([1, 2], rows: 1) }
    }

    @Test func vectorGELUMatchesErf() {
        // -10…10 in steps of 0.01, plus a tail that is not a multiple of the vector width.
        var x = (0...2000).map { Float($0 - 1000) / 100 }
        let expected = x.map { 0.5 * $0 * (1 + erff($0 * 0.70710678)) }
        bh_gelu(&x, x.count)
        let worst = zip(x, expected).map { abs($0 - $1) }.max() ?? .nan
        #expect(worst < 1e-5, "max absolute error \(worst)")
    }

    @Test(arguments: [384, 20])
    func fusedAddLayerNormMatchesReference(_ n: Int) {
        var values = Values(state: UInt64(n))
        let rows = 3
        var x = (0..<(rows * n)).map { _ in values.next() * 4 }
        let residual = (0..<(rows * n)).map { _ in values.next() }
        let gamma = (0..<n).map { _ in 1 + values.next() / 4 }
        let beta = (0..<n).map { _ in values.next() / 4 }
        var expected = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows {
            let row = (0..<n).map { Double(x[r * n + $0] + residual[r * n + $0]) }
            let mean = row.reduce(0, +) / Double(n)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            for i in 0..<n { expected[r * n + i] = Float((row[i] - mean) / (variance + 1e-12).squareRoot()) * gamma[i] + beta[i] }
        }
        bh_add_layer_norm(&x, residual, gamma, beta, Int32(rows), Int32(n), 1e-12)
        let worst = zip(x, expected).map { abs($0 - $1) }.max() ?? .nan
        #expect(worst < 1e-4, "width \(n): max absolute error \(worst)")
    }

    @Test(arguments: [1, 5, 37])
    func attentionMatchesReference(_ n: Int) {
        let heads = 3, d = 8, h = heads * d
        var values = Values(state: UInt64(n + 7))
        let qkv = (0..<(n * 3 * h)).map { _ in values.next() * 2 }
        let scale = 1 / Float(d).squareRoot()
        var expected = [Float](repeating: 0, count: n * h)
        for head in 0..<heads {
            for i in 0..<n {
                var scores = (0..<n).map { j in
                    (0..<d).reduce(Float(0)) { $0 + qkv[i * 3 * h + head * d + $1] * qkv[j * 3 * h + h + head * d + $1] } * scale
                }
                let m = scores.max() ?? 0
                scores = scores.map { expf($0 - m) }
                let sum = scores.reduce(0, +)
                for t in 0..<d {
                    expected[i * h + head * d + t] = (0..<n).reduce(Float(0)) { $0 + scores[$1] / sum * qkv[$1 * 3 * h + 2 * h + head * d + t] }
                }
            }
        }
        var context = [Float](repeating: .nan, count: n * h)
        var scratch = [Float](repeating: 0, count: (d + 1) * n)
        bh_attention(qkv, Int32(n), Int32(heads), Int32(d), scale, &context, Int32(h), &scratch)
        let worst = zip(context, expected).map { abs($0 - $1) }.max() ?? .nan
        #expect(worst < 1e-5, "n \(n): max absolute error \(worst)")
    }

    @Test func quantizedRowsRoundTrip() {
        let x: [Float] = [0.5, -1, 0.25, 0, 0, 0, 0, 0]
        var q = [Int8](repeating: 1, count: 8)
        var scales: [Float] = [0, 0]
        bh_quantize_rows(x, 2, 3, &q, &scales)
        // Row stride is the padded depth (4); padding is zeroed; an all-zero row gets scale 0.
        #expect(Array(q[0..<4]) == [64, -127, 32, 0])
        #expect(Array(q[4..<8]) == [0, 0, 0, 0])
        #expect(abs(scales[0] - 1 / 127) < 1e-7)
        #expect(scales[1] == 0)
    }
}
