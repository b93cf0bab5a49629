import BulkheadEmbeddings
import Foundation
import Testing

/// Not a test: the Swift half of `bench/embeddings/run` (disabled unless `BULKHEAD_BENCH=1`).
/// Prints one `BENCH {json}` line for the precision in `BULKHEAD_BENCH_PRECISION`.
@Suite struct EmbeddingsBenchmark {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["BULKHEAD_BENCH"] == "1"))
    func throughputAndMemory() async throws {
        let env = ProcessInfo.processInfo.environment
        let precision = EmbeddingPrecision(rawValue: env["BULKHEAD_BENCH_PRECISION"] ?? "fp32") ?? .fp32
        let file = try #require(env["BULKHEAD_BENCH_SENTENCES"])
        let sentences = try JSONDecoder().decode([String].self, from: Data(contentsOf: URL(fileURLWithPath: file)))
        let rssBefore = Self.status("VmRSS")
        let model = try EmbeddingModel.load(directory: try TestPaths.modelDirectory(), precision: precision)
        // Warm up OpenBLAS's threads and caches.
        _ = model.embedSynchronously(Array(sentences.prefix(32)))
        let clock = ContinuousClock()
        var latencies: [Double] = []
        let start1 = clock.now
        for s in sentences {
            let t = clock.now
            _ = model.embedSynchronously([s])
            latencies.append((clock.now - t).seconds * 1000)
        }
        let batch1 = Double(sentences.count) / (clock.now - start1).seconds
        let start32 = clock.now
        var i = 0
        while i < sentences.count {
            _ = model.embedSynchronously(Array(sentences[i..<min(i + 32, sentences.count)]))
            i += 32
        }
        let batch32 = Double(sentences.count) / (clock.now - start32).seconds
        latencies.sort()
        let rss = Double(Self.status("VmRSS")) / 1024, hwm = Double(Self.status("VmHWM")) / 1024
        // Quality next to speed (after the memory readings, since it loads a second model):
        // the smallest cosine between this precision's vectors and fp32's on the same sentences.
        var minCosine: Double = 1
        if precision != .fp32 {
            let reference = try EmbeddingModel.load(directory: model.directory, precision: .fp32)
            let sample = Array(sentences.prefix(64))
            for (a, b) in zip(model.embedSynchronously(sample), reference.embedSynchronously(sample)) {
                minCosine = min(minCosine, Double(zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }))
            }
        }
        let result: [String: Any] = [
            "impl": "bulkhead-\(precision.rawValue)", "sentences": sentences.count,
            "batch1_per_s": batch1, "batch32_per_s": batch32, "p50_ms": latencies[latencies.count / 2],
            "rss_mb": rss, "hwm_mb": hwm, "min_cosine_to_fp32": minCosine,
            "rss_before_load_mb": Double(rssBefore) / 1024, "weights_mb": Double(model.encoder.weightBytes) / 1_048_576,
        ]
        let json = try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys])
        print("BENCH " + String(decoding: json, as: UTF8.self))
        #expect(batch32 > 0)
    }

    /// A `/proc/self/status` field in KiB.
    static func status(_ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
