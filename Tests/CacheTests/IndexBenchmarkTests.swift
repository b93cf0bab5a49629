@testable import Cache
import Foundation
import Testing

/// Not a test: the in-process half of `bench/cache/run` (disabled unless `BULKHEAD_BENCH=1`).
/// For each size in `BULKHEAD_BENCH_SIZES` (default 10000,100000,1000000) it builds an exact and
/// an HNSW index of 384-dimension clustered vectors and prints one `BENCHIDX {json}` line each:
/// insert rate, lookup p50/p99 (k = 1), memory per entry (index bytes and RSS delta), and for
/// HNSW recall@1 against the exact index on the same queries.
@Suite struct IndexBenchmarkTests {
    static let env = ProcessInfo.processInfo.environment

    @Test(.enabled(if: env["BULKHEAD_BENCH"] == "1"))
    func lookupLatencyRecallAndMemory() throws {
        let sizes = (Self.env["BULKHEAD_BENCH_SIZES"] ?? "10000,100000,1000000").split(separator: ",").compactMap { Int($0) }
        let dimension = Int(Self.env["BULKHEAD_BENCH_DIM"] ?? "384") ?? 384
        let queryCount = Int(Self.env["BULKHEAD_BENCH_QUERIES"] ?? "1000") ?? 1000
        let efConstruction = Int(Self.env["BULKHEAD_BENCH_EF_CONSTRUCTION"] ?? "") ?? VectorIndexConfiguration().efConstruction
        let efSearch = Int(Self.env["BULKHEAD_BENCH_EF_SEARCH"] ?? "") ?? VectorIndexConfiguration().efSearch
        for n in sizes {
            var data = ClusteredVectors(dimension: dimension, clusters: max(10, n / 100), seed: UInt64(n))
            let vectors = data.take(n)
            // Half the queries are fresh points of the distribution, half paraphrase-like
            // neighbours of stored vectors (a cache's typical hit).
            var rng = SplitMix(state: 99)
            var queries = data.take(queryCount / 2)
            for _ in 0..<(queryCount - queries.count) {
                let base = vectors[Int(rng.next() % UInt64(n))]
                queries.append(base.map { $0 + 0.02 * rng.gaussian() })
            }
            // Exact: 1M lookups scan 1.5 GB each, so fewer queries there.
            let exactQueries = Array(queries.prefix(n >= 1_000_000 ? 100 : queryCount))
            var exactAnswers: [UInt64] = []
            do {
                let rss0 = Self.rssKiB()
                let index = VectorIndex(dimension: dimension, configuration: .init(hnswThreshold: Int.max))
                let t0 = ContinuousClock.now
                for (i, v) in vectors.enumerated() { index.insert(id: UInt64(i), vector: v) }
                let insertSeconds = Self.seconds(ContinuousClock.now - t0)
                let rss1 = Self.rssKiB()
                var latencies: [Double] = []
                for q in exactQueries {
                    let t = ContinuousClock.now
                    let r = index.search(q, k: 1)
                    latencies.append(Self.seconds(ContinuousClock.now - t) * 1e3)
                    exactAnswers.append(r.first?.id ?? .max)
                }
                Self.emit([
                    "kind": "exact", "n": n, "dim": dimension, "queries": exactQueries.count,
                    "insert_per_s": Double(n) / insertSeconds, "build_s": insertSeconds,
                    "p50_ms": Self.percentile(latencies, 0.5), "p99_ms": Self.percentile(latencies, 0.99),
                    "index_bytes_per_entry": Double(index.memoryBytes) / Double(n),
                    "rss_bytes_per_entry": Double(rss1 - rss0) * 1024 / Double(n), "recall_at_1": 1.0,
                ])
            }
            do {
                let config = VectorIndexConfiguration(hnswThreshold: 1, efConstruction: efConstruction, efSearch: efSearch)
                let rss0 = Self.rssKiB()
                let index = VectorIndex(dimension: dimension, configuration: config)
                let t0 = ContinuousClock.now
                for (i, v) in vectors.enumerated() { index.insert(id: UInt64(i), vector: v) }
                let insertSeconds = Self.seconds(ContinuousClock.now - t0)
                let rss1 = Self.rssKiB()
                var latencies: [Double] = []
                var answers: [UInt64] = []
                for q in queries {
                    let t = ContinuousClock.now
                    let r = index.search(q, k: 1)
                    latencies.append(Self.seconds(ContinuousClock.now - t) * 1e3)
                    answers.append(r.first?.id ?? .max)
                }
                // Start-up cost: writing the graph to a snapshot file and loading it back.
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-index-\(n).hnsw").path
                defer { try? FileManager.default.removeItem(atPath: path) }
                let w0 = ContinuousClock.now
                try index.writeSnapshot(to: path)
                let writeSeconds = Self.seconds(ContinuousClock.now - w0)
                let fileBytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
                let l0 = ContinuousClock.now
                let loaded = try VectorIndex.loadSnapshot(from: path, dimension: dimension, configuration: config)
                let loadSeconds = Self.seconds(ContinuousClock.now - l0)
                #expect(loaded.count == n)
                var agree = 0
                for (i, exact) in exactAnswers.enumerated() where answers[i] == exact { agree += 1 }
                // At 1M the exact reference covers only its 100 queries: recall is over those.
                Self.emit([
                    "kind": "hnsw", "n": n, "dim": dimension, "queries": queries.count,
                    "insert_per_s": Double(n) / insertSeconds, "build_s": insertSeconds,
                    "p50_ms": Self.percentile(latencies, 0.5), "p99_ms": Self.percentile(latencies, 0.99),
                    "index_bytes_per_entry": Double(index.memoryBytes) / Double(n),
                    "rss_bytes_per_entry": Double(rss1 - rss0) * 1024 / Double(n),
                    "recall_at_1": Double(agree) / Double(exactAnswers.count), "recall_queries": exactAnswers.count,
                    "snapshot_write_s": writeSeconds, "snapshot_load_s": loadSeconds, "snapshot_bytes_per_entry": Double(fileBytes) / Double(n),
                    "m": config.m, "ef_construction": config.efConstruction, "ef_search": config.efSearch,
                ])
            }
        }
    }

    static func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18 }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func emit(_ object: [String: Any]) {
        guard let json = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        print("BENCHIDX " + String(decoding: json, as: UTF8.self))
    }

    /// Resident set size in KiB (`/proc/self/status`).
    static func rssKiB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}

