import Foundation
import Testing

/// TTL expiry (lazy and by the sweep), LRU eviction by entries and by bytes (per namespace and
/// global), and invalidation by key, namespace and tenant.
@Suite struct CacheLimitsTests {
    @Test func entriesExpireAfterTheirTTLOnLookupAndByTheSweep() async throws {
        let c = try await CacheTestHost.start(["CACHE_SWEEP_INTERVAL": "100ms"])
        let v = CacheVectors.random(seed: 3)
        // 3 s, so even a loaded machine looks it up before it expires.
        #expect(try await c.put("t", "ns", "short", ["vector": v, "response": 1, "ttl_seconds": 3]).status == 201)
        #expect(try await c.put("t", "ns", "swept", ["response": 2, "ttl_seconds": 1]).status == 201)
        #expect(try await c.put("t", "ns", "long", ["response": 3, "ttl_seconds": 3600]).status == 201)
        #expect(try await c.lookup("t", "ns", ["key": "short"]).bool("hit") == true)
        // Poll (no fixed sleep): the short entry must stop hitting, by key and by vector.
        let expired = try await cacheEventually(timeout: .seconds(15)) {
            try await c.lookup("t", "ns", ["key": "short", "vector": v]).bool("hit") == false
        }
        #expect(expired)
        // The sweep removes the other expired entry without any lookup touching it.
        let swept = try await cacheEventually {
            try await c.call(.get, "/internal/v1/cache/t/ns").int("entries") == 1
        }
        #expect(swept)
        #expect(try await c.lookup("t", "ns", ["key": "long"]).bool("hit") == true)
        let stats = try await c.call(.get, "/internal/v1/cache/stats")
        #expect(stats.int("expirations") == 2)
        #expect(try await c.metric(#"cache_evictions_total{reason="ttl"}"#) == 2)
        await c.stop()
    }

    @Test func lruEvictsByEntriesAndAHitRefreshesRecency() async throws {
        let c = try await CacheTestHost.start(["CACHE_MAX_ENTRIES_PER_NAMESPACE": "3"])
        for k in ["a", "b", "c"] {
            #expect(try await c.put("t", "ns", k, ["vector": CacheVectors.random(seed: UInt64(k.utf8.first ?? 0)), "response": k]).status == 201)
        }
        // Touch "a": "b" becomes the least recently used.
        #expect(try await c.lookup("t", "ns", ["key": "a"]).bool("hit") == true)
        #expect(try await c.put("t", "ns", "d", ["response": "d"]).status == 201)
        #expect(try await c.lookup("t", "ns", ["key": "b", "exact_only": true]).bool("hit") == false)
        for k in ["a", "c", "d"] { #expect(try await c.lookup("t", "ns", ["key": k]).bool("hit") == true) }
        let ns = try await c.call(.get, "/internal/v1/cache/t/ns")
        #expect(ns.int("entries") == 3)
        #expect(ns.int("index_vectors") == 2, "b's vector left the index with it")
        #expect((ns["evictions"] as? [String: Any])?["lru_entries"] as? Int == 1)
        #expect(try await c.metric(#"cache_evictions_total{reason="lru_entries"}"#) == 1)
        await c.stop()
    }

    @Test func lruEvictsByBytesPerNamespaceAndGlobally() async throws {
        // Each entry: key (2) + response ("xxx…" 1002 with quotes) + 64 = 1068 bytes.
        let c = try await CacheTestHost.start([
            "CACHE_MAX_BYTES_PER_NAMESPACE": "3500", "CACHE_MAX_BYTES": "5000", "CACHE_MAX_ENTRY_BYTES": "2000",
        ])
        let big = String(repeating: "x", count: 1000)
        for k in ["k1", "k2", "k3"] { #expect(try await c.put("t", "one", k, ["response": big]).status == 201) }
        #expect(try await c.call(.get, "/internal/v1/cache/t/one").int("bytes") == 3 * 1068)
        #expect(try await c.put("t", "one", "k4", ["response": big]).status == 201)
        let one = try await c.call(.get, "/internal/v1/cache/t/one")
        #expect(one.int("entries") == 3)
        #expect((one["evictions"] as? [String: Any])?["lru_bytes"] as? Int == 1)
        #expect(try await c.lookup("t", "one", ["key": "k1"]).bool("hit") == false)

        // Global: 3 + 2 entries would be 5340 > 5000: the globally oldest ("k2" of namespace one) goes.
        #expect(try await c.put("u", "two", "m1", ["response": big]).status == 201)
        #expect(try await c.put("u", "two", "m2", ["response": big]).status == 201)
        let totals = try await c.call(.get, "/internal/v1/cache/stats")
        #expect((totals.int("bytes") ?? 0) <= 5000)
        #expect(totals.int("entries") == 4)
        #expect(try await c.lookup("t", "one", ["key": "k2"]).bool("hit") == false)
        #expect(try await c.lookup("u", "two", ["key": "m1"]).bool("hit") == true)
        #expect(try await c.metric(#"cache_evictions_total{reason="lru_bytes"}"#) == 2)
        await c.stop()
    }

    @Test func globalEntryLimitEvictsTheOldestAcrossNamespaces() async throws {
        let c = try await CacheTestHost.start(["CACHE_MAX_ENTRIES": "3", "CACHE_MAX_ENTRIES_PER_NAMESPACE": "3"])
        #expect(try await c.put("t", "a", "1", ["response": 1]).status == 201)
        #expect(try await c.put("t", "b", "2", ["response": 2]).status == 201)
        #expect(try await c.put("u", "c", "3", ["response": 3]).status == 201)
        #expect(try await c.put("u", "c", "4", ["response": 4]).status == 201)
        #expect(try await c.lookup("t", "a", ["key": "1"]).bool("hit") == false)
        #expect(try await c.call(.get, "/internal/v1/cache/stats").int("entries") == 3)
        await c.stop()
    }

    @Test func invalidationByKeyNamespaceAndTenant() async throws {
        let c = try await CacheTestHost.start()
        for (t, ns, k) in [("t1", "n1", "a"), ("t1", "n1", "b"), ("t1", "n2", "c"), ("t2", "n1", "d")] {
            #expect(try await c.put(t, ns, k, ["vector": CacheVectors.random(seed: UInt64(k.utf8.first ?? 0)), "response": k]).status == 201)
        }
        #expect(try await c.call(.delete, "/internal/v1/cache/t1/n1/entries/a").status == 204)
        #expect(try await c.lookup("t1", "n1", ["key": "a"]).bool("hit") == false)

        let dropNS = try await c.call(.delete, "/internal/v1/cache/t1/n1")
        #expect(dropNS.status == 200)
        #expect(dropNS.int("deleted_entries") == 1)
        #expect(try await c.lookup("t1", "n1", ["key": "b"]).errorCode == "namespace_not_found")
        #expect(try await c.call(.delete, "/internal/v1/cache/t1/n1").status == 404)

        let dropTenant = try await c.call(.delete, "/internal/v1/cache/t1")
        #expect(dropTenant.status == 200)
        #expect(dropTenant.int("deleted_entries") == 1)
        #expect(try await c.lookup("t1", "n2", ["key": "c"]).status == 404)
        #expect(try await c.call(.delete, "/internal/v1/cache/t1").int("deleted_entries") == 0)
        // The other tenant is untouched.
        #expect(try await c.lookup("t2", "n1", ["key": "d"]).bool("hit") == true)
        #expect(try await c.metric(#"cache_evictions_total{reason="invalidated"}"#) == 3)
        #expect(try await c.metric("cache_entries") == 1)
        await c.stop()
    }
}
