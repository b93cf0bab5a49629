import Foundation
import Testing

/// Entries survive a restart on the same `DATA_DIR`: exact and semantic hits, deletions and
/// expired entries stay gone, and the LRU order is kept.
@Suite struct CachePersistenceTests {
    @Test func entriesSurviveARestart() async throws {
        let first = try await CacheTestHost.start()
        let dir = first.dataDirectory
        let v = CacheVectors.random(seed: 31, dimension: 32)
        #expect(try await first.put("t", "ns", "keep", ["vector": v, "response": ["kept": true], "usage": ["u": 1], "cost_micro_usd": 7]).status == 201)
        #expect(try await first.put("t", "ns", "drop", ["vector": CacheVectors.random(seed: 32, dimension: 32), "response": 0]).status == 201)
        #expect(try await first.put("t", "ns", "brief", ["response": 0, "ttl_seconds": 1]).status == 201)
        #expect(try await first.put("t", "exact", "e", ["response": "exact only"]).status == 201)
        #expect(try await first.call(.delete, "/internal/v1/cache/t/ns/entries/drop").status == 204)
        await first.stop()

        // Let the 1 s entry expire while the service is down (polling the clock, not the service).
        let until = Date().addingTimeInterval(1.1)
        while Date() < until { try await Task.sleep(for: .milliseconds(50)) }

        let second = try await CacheTestHost.start(dataDirectory: dir)
        let exact = try await second.lookup("t", "ns", ["key": "keep"])
        #expect(exact.bool("hit") == true)
        #expect((exact["response"] as? [String: Any])?["kept"] as? Bool == true)
        #expect((exact["usage"] as? [String: Any])?["u"] as? Int == 1)
        #expect(exact.int("cost_micro_usd") == 7)
        let semantic = try await second.lookup("t", "ns", ["vector": CacheVectors.nudged(v, by: 0.05)])
        #expect(semantic["kind"] as? String == "semantic")
        #expect(semantic["key"] as? String == "keep")
        #expect(try await second.lookup("t", "ns", ["key": "drop", "exact_only": true]).bool("hit") == false)
        #expect(try await second.lookup("t", "ns", ["key": "brief", "exact_only": true]).bool("hit") == false)
        #expect(try await second.lookup("t", "exact", ["key": "e"]).bool("hit") == true)
        let ns = try await second.call(.get, "/internal/v1/cache/t/ns")
        #expect(ns.int("entries") == 1)
        #expect(ns.int("dimension") == 32)
        // New entries get fresh ids (no clash with the loaded ones) and the dimension stays fixed.
        #expect(try await second.put("t", "ns", "new", ["vector": CacheVectors.random(seed: 33, dimension: 32), "response": 1]).status == 201)
        #expect(try await second.put("t", "ns", "bad", ["vector": [1.0, 2.0], "response": 1]).errorCode == "dimension_mismatch")
        #expect(try await second.lookup("t", "ns", ["key": "keep"]).bool("hit") == true)
        #expect(try await second.metric("cache_entries") == 3)
        await second.stop()
    }
}

/// HNSW namespaces write an index snapshot at shutdown and load it at start; a stale snapshot
/// (as after a crash) is reconciled with the database.
@Suite struct CacheSnapshotTests {
    static func vector(_ i: Int) -> [Double] { CacheVectors.random(seed: UInt64(1000 + i), dimension: 24) }

    @Test func hnswIndexSnapshotIsWrittenLoadedAndReconciled() async throws {
        let settings = ["CACHE_HNSW_THRESHOLD": "40"]
        let first = try await CacheTestHost.start(settings)
        let dir = first.dataDirectory
        for i in 0..<50 {
            #expect(try await first.put("t", "big", "k\(i)", ["vector": Self.vector(i), "response": i]).status == 201)
        }
        #expect(try await first.call(.get, "/internal/v1/cache/t/big")["index"] as? String == "hnsw")
        #expect(try await first.metric(#"cache_index_vectors{kind="hnsw"}"#) == 50)
        await first.stop()
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/index").filter { $0.hasSuffix(".hnsw") }
        #expect(files.count == 1)
        let snapshot = try #require(files.first.map { dir + "/index/" + $0 })
        let old = try Data(contentsOf: URL(fileURLWithPath: snapshot))

        // Second run: loads the snapshot; one entry deleted, one added, then a clean stop.
        let second = try await CacheTestHost.start(settings, dataDirectory: dir)
        let startup = try #require(try await second.call(.get, "/internal/v1/cache/stats")["startup"] as? [String: Any])
        #expect(startup["loaded_entries"] as? Int == 50)
        #expect(startup["index_snapshots_loaded"] as? Int == 1)
        #expect(try await second.call(.get, "/internal/v1/cache/t/big")["index"] as? String == "hnsw")
        #expect(try await second.lookup("t", "big", ["vector": Self.vector(7)])["key"] as? String == "k7")
        #expect(try await second.call(.delete, "/internal/v1/cache/t/big/entries/k3").status == 204)
        #expect(try await second.put("t", "big", "new", ["vector": Self.vector(99), "response": 99]).status == 201)
        await second.stop()

        // Put the first run's snapshot back, as if the second run had crashed: the start must
        // drop k3 from the index and add "new".
        try old.write(to: URL(fileURLWithPath: snapshot))
        let third = try await CacheTestHost.start(settings, dataDirectory: dir)
        let thirdStartup = try await third.call(.get, "/internal/v1/cache/stats")["startup"] as? [String: Any]
        #expect(thirdStartup?["index_snapshots_loaded"] as? Int == 1)
        let ns = try await third.call(.get, "/internal/v1/cache/t/big")
        #expect(ns["index"] as? String == "hnsw")
        #expect(ns.int("entries") == 50)
        #expect(ns.int("index_vectors") == 50)
        let added = try await third.lookup("t", "big", ["vector": Self.vector(99)])
        #expect(added["key"] as? String == "new")
        let removed = try await third.lookup("t", "big", ["vector": Self.vector(3), "threshold": 0.999])
        #expect(removed.bool("hit") == false, "k3 was deleted: \(removed.text)")
        for i in [0, 10, 25, 49] {
            #expect(try await third.lookup("t", "big", ["vector": Self.vector(i)])["key"] as? String == "k\(i)")
        }
        await third.stop()
    }
}
