import Foundation
import Testing

/// Stores and lookups over HTTP: exact and semantic hits and misses, the per-request
/// threshold, tenant isolation, reading and deleting one entry, stats and `/metrics`.
@Suite struct CacheEntryTests {
    static var response: [String: Any] { ["id": "chatcmpl-1", "choices": [["message": ["role": "assistant", "content": "Paris."]]]] }

    @Test func exactKeyHitsAndMisses() async throws {
        let c = try await CacheTestHost.start()
        let v = CacheVectors.random(seed: 1)
        let put = try await c.put("acme", "gpt-4o.t0", "k1", ["vector": v, "response": Self.response, "usage": ["total_tokens": 12], "cost_micro_usd": 250, "ttl_seconds": 60])
        #expect(put.status == 201, "\(put.text)")
        #expect(put["key"] as? String == "k1")
        #expect(put["namespace"] as? String == "gpt-4o.t0")
        #expect(put["tenant"] as? String == "acme")
        #expect((put.int("bytes") ?? 0) > 64)
        let expiresAt = try #require(put.int("expires_at"))
        let nowMs = Int(Date().timeIntervalSince1970 * 1000)
        #expect(expiresAt <= nowMs + 60_000 && expiresAt > nowMs + 30_000)

        let hit = try await c.lookup("acme", "gpt-4o.t0", ["key": "k1"])
        #expect(hit.status == 200)
        #expect(hit.bool("hit") == true)
        #expect(hit["kind"] as? String == "exact")
        #expect(hit.double("similarity") == 1)
        #expect(hit.int("cost_micro_usd") == 250)
        #expect((hit["usage"] as? [String: Any])?["total_tokens"] as? Int == 12)
        let resp = try #require(hit["response"] as? [String: Any])
        #expect(resp["id"] as? String == "chatcmpl-1")
        #expect(hit.int("expires_at") == expiresAt)

        let miss = try await c.lookup("acme", "gpt-4o.t0", ["key": "other", "exact_only": true])
        #expect(miss.status == 200)
        #expect(miss.bool("hit") == false)
        #expect(miss["best_similarity"] is NSNull)

        // Replacing the key answers 200 and the new response is returned.
        let again = try await c.put("acme", "gpt-4o.t0", "k1", ["vector": v, "response": "second"])
        #expect(again.status == 200)
        #expect(try await c.lookup("acme", "gpt-4o.t0", ["key": "k1"])["response"] as? String == "second")

        // An entry without vector or text is exact-only; the namespace has no dimension until a vector arrives.
        #expect(try await c.put("acme", "exact-only", "q", ["response": ["a": 1]]).status == 201)
        let stats = try await c.call(.get, "/internal/v1/cache/acme/exact-only")
        #expect(stats["dimension"] is NSNull)
        #expect(try await c.lookup("acme", "exact-only", ["key": "q"]).bool("hit") == true)
        #expect(try await c.lookup("acme", "exact-only", ["vector": v]).bool("hit") == false)
        await c.stop()
    }

    @Test func semanticHitForANearVectorMissForAFarOneAndPerRequestThreshold() async throws {
        let c = try await CacheTestHost.start()
        let base = CacheVectors.random(seed: 7)
        #expect(try await c.put("acme", "ns", "a", ["vector": base, "response": ["answer": "A"], "cost_micro_usd": 900]).status == 201)
        #expect(try await c.put("acme", "ns", "b", ["vector": CacheVectors.random(seed: 8), "response": ["answer": "B"]]).status == 201)

        let near = CacheVectors.nudged(base, by: 0.1)
        let nearCos = CacheVectors.cosine(base, near)
        #expect(nearCos > 0.95)
        let hit = try await c.lookup("acme", "ns", ["vector": near])
        #expect(hit.bool("hit") == true, "\(hit.text)")
        #expect(hit["kind"] as? String == "semantic")
        #expect(hit["key"] as? String == "a")
        #expect(abs((hit.double("similarity") ?? 0) - nearCos) < 1e-3)
        #expect(hit.int("cost_micro_usd") == 900)

        // A key that misses falls through to the vector.
        let both = try await c.lookup("acme", "ns", ["key": "missing", "vector": near])
        #expect(both["kind"] as? String == "semantic")

        // Far: similarity well below the default threshold → miss carrying the best similarity.
        let far = CacheVectors.nudged(base, by: 1.5, seed: 4242)
        let farCos = CacheVectors.cosine(base, far)
        #expect(farCos < 0.85)
        let miss = try await c.lookup("acme", "ns", ["vector": far])
        #expect(miss.bool("hit") == false)
        #expect((miss.double("best_similarity") ?? 2) < 0.9)

        // The per-request threshold overrides the default both ways.
        let loose = try await c.lookup("acme", "ns", ["vector": far, "threshold": (miss.double("best_similarity") ?? 0) - 0.01])
        #expect(loose.bool("hit") == true)
        let strict = try await c.lookup("acme", "ns", ["vector": near, "threshold": 0.9999])
        #expect(strict.bool("hit") == false)
        #expect(abs((strict.double("best_similarity") ?? 0) - nearCos) < 1e-3)
        // exact_only never goes to the index.
        #expect(try await c.lookup("acme", "ns", ["vector": near, "exact_only": true]).bool("hit") == false)
        await c.stop()
    }

    @Test func tenantsNeverSeeEachOthersEntries() async throws {
        let c = try await CacheTestHost.start()
        let v = CacheVectors.random(seed: 11)
        #expect(try await c.put("tenant-a", "shared-name", "same-key", ["vector": v, "response": ["secret": "of A"]]).status == 201)
        // Another tenant with the same namespace name does not exist yet: 404, which callers treat as a miss.
        let unknown = try await c.lookup("tenant-b", "shared-name", ["key": "same-key", "vector": v])
        #expect(unknown.status == 404)
        #expect(unknown.errorCode == "namespace_not_found")
        // Once it exists, the same key and the very same vector still miss.
        #expect(try await c.put("tenant-b", "shared-name", "other", ["vector": CacheVectors.random(seed: 12), "response": ["b": 1]]).status == 201)
        let miss = try await c.lookup("tenant-b", "shared-name", ["key": "same-key", "vector": v, "threshold": -1])
        #expect(miss.bool("hit") == true)
        #expect(miss["key"] as? String == "other", "a threshold of -1 may only ever find tenant B's own entry")
        let strictMiss = try await c.lookup("tenant-b", "shared-name", ["key": "same-key", "vector": v])
        #expect(strictMiss.bool("hit") == false)
        #expect(try await c.call(.get, "/internal/v1/cache/tenant-b/shared-name/entries/same-key").status == 404)
        // Deleting tenant B's namespace leaves tenant A's entry.
        #expect(try await c.call(.delete, "/internal/v1/cache/tenant-b").status == 200)
        #expect(try await c.lookup("tenant-a", "shared-name", ["key": "same-key"]).bool("hit") == true)
        await c.stop()
    }

    @Test func getAndDeleteOneEntryStatsAndMetricsMove() async throws {
        let c = try await CacheTestHost.start()
        let v = CacheVectors.random(seed: 21)
        #expect(try await c.put("t1", "ns", "k", ["vector": v, "response": ["x": 1], "usage": ["prompt_tokens": 3], "cost_micro_usd": 40]).status == 201)
        let got = try await c.call(.get, "/internal/v1/cache/t1/ns/entries/k")
        #expect(got.status == 200)
        #expect((got["response"] as? [String: Any])?["x"] as? Int == 1)
        #expect(got.bool("has_vector") == true)
        #expect(got.int("cost_micro_usd") == 40)

        _ = try await c.lookup("t1", "ns", ["key": "k"])  // exact hit
        _ = try await c.lookup("t1", "ns", ["vector": CacheVectors.nudged(v, by: 0.05)])  // semantic hit
        _ = try await c.lookup("t1", "ns", ["key": "nope", "exact_only": true])  // miss
        let ns = try await c.call(.get, "/internal/v1/cache/t1/ns")
        #expect(ns.int("entries") == 1)
        #expect(ns.int("dimension") == 16)
        #expect(ns["index"] as? String == "exact")
        #expect(ns.int("hits_exact") == 1)
        #expect(ns.int("hits_semantic") == 1)
        #expect(ns.int("misses") == 1)
        #expect(ns.int("saved_cost_micro_usd") == 80)
        let totals = try await c.call(.get, "/internal/v1/cache/stats")
        #expect(totals.int("lookups") == 3)
        #expect(abs((totals.double("hit_ratio") ?? 0) - 2.0 / 3.0) < 1e-9)
        #expect(totals.int("entries") == 1)
        #expect((totals["index_vectors"] as? [String: Any])?["exact"] as? Int == 1)
        #expect(try await c.metric(#"cache_lookups_total{result="hit_exact"}"#) == 1)
        #expect(try await c.metric(#"cache_lookups_total{result="hit_semantic"}"#) == 1)
        #expect(try await c.metric(#"cache_lookups_total{result="miss"}"#) == 1)
        #expect(try await c.metric("cache_saved_cost_micro_usd_total") == 80)
        #expect(try await c.metric("cache_entries") == 1)
        #expect(try await c.metric(#"cache_index_vectors{kind="exact"}"#) == 1)

        #expect(try await c.call(.delete, "/internal/v1/cache/t1/ns/entries/k").status == 204)
        #expect(try await c.call(.delete, "/internal/v1/cache/t1/ns/entries/k").status == 404)
        let gone = try await c.call(.get, "/internal/v1/cache/t1/ns/entries/k")
        #expect(gone.status == 404)
        #expect(gone.errorCode == "entry_not_found")
        #expect(try await c.lookup("t1", "ns", ["vector": v]).bool("hit") == false)
        #expect(try await c.metric(#"cache_evictions_total{reason="invalidated"}"#) == 1)
        #expect(try await c.metric("cache_entries") == 0)
        #expect(try await c.metric(#"cache_index_vectors{kind="exact"}"#) == 0)
        // The internal credential is required.
        #expect(try await c.call(.get, "/internal/v1/cache/stats", token: nil).status == 401)
        await c.stop()
    }
}
