import BulkheadEmbeddings
import Foundation
import Testing

/// Not a test: int8 GEMM vs OpenBLAS sgemm at the model's linear-layer shapes, part of
/// `bench/embeddings/run` (disabled unless `BULKHEAD_BENCH=1`). Prints `BENCHK {json}` lines.
@Suite struct KernelBenchmark {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BULKHEAD_BENCH"] == "1" && ProcessInfo.processInfo.environment["BULKHEAD_BENCH_PRECISION"] == "fp32"))
    func linearLayerShapes() throws {
        let clock = ContinuousClock()
        // tokens: one short sentence, a batch of 32 short sentences.
        for tokens in [16, 512] {
            for (n, k) in [(1152, 384), (384, 384), (1536, 384), (384, 1536)] {
                var values = QuantizedKernelTests.Values(state: UInt64(n * k))
                let w = (0..<(n * k)).map { _ in values.next() * 0.1 }
                let x = (0..<(tokens * k)).map { _ in values.next() }
                let dense = DenseLinear(weight: w, bias: [Float](repeating: 0, count: n), inFeatures: k, outFeatures: n)
                let quantized = QuantizedLinear(weight: w, bias: [Float](repeating: 0, count: n), inFeatures: k, outFeatures: n)
                var y = [Float](repeating: 0, count: tokens * n)
                func time(_ layer: any LinearLayer) -> Double {
                    let reps = max(5, 200_000_000 / (tokens * n * k))
                    return x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return .nan }
                            layer.forward(xb, rows: tokens, into: yb, gelu: false)
                            let start = clock.now
                            for _ in 0..<reps { layer.forward(xb, rows: tokens, into: yb, gelu: false) }
                            return (clock.now - start).seconds / Double(reps) * 1e6
                        }
                    }
                }
                let fp32 = time(dense), int8 = time(quantized)
                let row: [String: Any] = ["tokens": tokens, "n": n, "k": k, "sgemm_us": fp32, "int8_us": int8, "speedup": fp32 / int8]
                let json = try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
                print("BENCHK " + String(decoding: json, as: UTF8.self))
            }
        }
    }
}
