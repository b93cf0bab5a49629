import Foundation
import Testing

/// Counters and token buckets over HTTP: exact under concurrent clients, refill and
/// retry_after, all-or-nothing calls, forced charges and refunds, reads and errors.
@Suite struct CounterHTTPTests {
    static func counter(_ key: String, _ amount: Int, limit: Int?, ttl: Int = 60, force: Bool = false) -> [String: Any] {
        var op: [String: Any] = ["key": key, "kind": "counter", "amount": amount, "ttl_seconds": ttl, "force": force]
        if let limit { op["limit"] = limit }
        return op
    }

    static func bucket(_ key: String, _ amount: Int, capacity: Int, refill: Double, ttl: Int = 60, force: Bool = false) -> [String: Any] {
        ["key": key, "kind": "bucket", "amount": amount, "capacity": capacity, "refill_per_second": refill, "ttl_seconds": ttl, "force": force]
    }

    static func results(_ r: CacheReply) -> [[String: Any]] { r["results"] as? [[String: Any]] ?? [] }

    @Test func concurrentIncrementsFromSeveralClientsStayExact() async throws {
        let c = try await CacheTestHost.start(["LOOP_THREADS": "2"])
        let clients = 8, perClient = 200, limit = 1000
        // Each client has its own connection pool (its own HTTPClient), so requests really interleave.
        let allowed = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    let client = try await CacheTestHost.attach(to: c)
                    var ok = 0
                    for _ in 0..<perClient {
                        let r = try await client.apply([Self.counter("tenant-1/requests/day", 1, limit: limit)])
                        if r.bool("allowed") == true { ok += 1 }
                    }
                    await client.client.shutdown()
                    return ok
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(allowed == limit)
        let read = try await c.call(.get, "/internal/v1/counters/tenant-1/requests/day")
        #expect(read.status == 200)
        #expect(read.int("value") == limit)
        #expect(read.int("limit") == limit)
        #expect(read["kind"] as? String == "counter")
        #expect(try await c.metric(#"cache_counter_ops_total{result="allowed"}"#) == Double(limit))
        #expect(try await c.metric(#"cache_counter_ops_total{result="refused"}"#) == Double(clients * perClient - limit))

        // Unlimited counters count every increment exactly.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    for _ in 0..<50 { _ = try await c.apply([Self.counter("tenant-1/tokens", 3, limit: nil)]) }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await c.call(.get, "/internal/v1/counters/tenant-1/tokens").int("value") == clients * 50 * 3)
        await c.stop()
    }

    @Test func bucketRefillsAndReportsRetryAfter() async throws {
        let c = try await CacheTestHost.start()
        // A bucket that refills one token per 1000 s: the refusal and its retry_after do not
        // depend on how fast this machine answers.
        #expect(try await c.apply([Self.bucket("t/rpm", 3, capacity: 3, refill: 0.001)]).bool("allowed") == true)
        let refused = try await c.apply([Self.bucket("t/rpm", 1, capacity: 3, refill: 0.001)])
        #expect(refused.bool("allowed") == false)
        let result = try #require(Self.results(refused).first)
        #expect(result["allowed"] as? Bool == false)
        #expect(result["limit"] as? Int == 3)
        #expect(result["value"] as? Int == 0)
        let retry = try #require(result["retry_after_ms"] as? Int)
        #expect(retry > 990_000 && retry <= 1_000_000)
        // A fast bucket drained into debt (force) refills: poll until one take passes again.
        let drained = try await c.apply([Self.bucket("t/fast", 5, capacity: 3, refill: 5, force: true)])
        #expect(Self.results(drained).first?["value"] as? Int ?? 0 <= -1)
        let refilled = try await cacheEventually(timeout: .seconds(10)) {
            try await c.apply([Self.bucket("t/fast", 1, capacity: 3, refill: 5)]).bool("allowed") == true
        }
        #expect(refilled)
        let read = try await c.call(.get, "/internal/v1/counters/t/rpm")
        #expect(read["kind"] as? String == "bucket")
        #expect(read.int("capacity") == 3)
        #expect(read["limit"] == nil)
        await c.stop()
    }

    @Test func aRefusedOpAppliesNothingForceAndRefundsAlwaysApply() async throws {
        let c = try await CacheTestHost.start()
        #expect(try await c.apply([Self.counter("t/budget", 90, limit: 100)]).bool("allowed") == true)
        // Request budget fine, token bucket fine, but the budget counter refuses: nothing changes.
        let mixed = try await c.apply([
            Self.bucket("t/rps", 1, capacity: 10, refill: 1), Self.counter("t/requests", 1, limit: 5), Self.counter("t/budget", 20, limit: 100),
        ])
        #expect(mixed.bool("allowed") == false)
        let rs = Self.results(mixed)
        #expect(rs.map { $0["allowed"] as? Bool } == [true, true, false])
        #expect(rs[2]["value"] as? Int == 90)
        #expect((rs[2]["retry_after_ms"] as? Int ?? 0) > 0)
        #expect(rs[0]["retry_after_ms"] as? Int == 0)
        #expect(try await c.call(.get, "/internal/v1/counters/t/rps").status == 404, "a refused call creates no key")
        #expect(try await c.call(.get, "/internal/v1/counters/t/requests").errorCode == "counter_not_found")
        #expect(try await c.call(.get, "/internal/v1/counters/t/budget").int("value") == 90)

        // force: applied beyond the limit (actual usage above the reservation); the call stays allowed.
        let forced = try await c.apply([Self.counter("t/budget", 20, limit: 100, force: true)])
        #expect(forced.bool("allowed") == true)
        #expect(Self.results(forced).first?["allowed"] as? Bool == false)
        #expect(Self.results(forced).first?["value"] as? Int == 110)
        // A refund always applies, floored at zero.
        #expect(Self.results(try await c.apply([Self.counter("t/budget", -500, limit: 100)])).first?["value"] as? Int == 0)

        // A bucket may go into debt with force, paid back by refill; refunds cap at capacity.
        let debt = try await c.apply([Self.bucket("t/tokens", 15, capacity: 10, refill: 1, force: true)])
        #expect(Self.results(debt).first?["value"] as? Int == -5)
        #expect(try await c.apply([Self.bucket("t/tokens", 1, capacity: 10, refill: 1)]).bool("allowed") == false)
        let refund = try await c.apply([Self.bucket("t/tokens", -100, capacity: 10, refill: 1)])
        #expect(Self.results(refund).first?["value"] as? Int == 10)

        // Two ops on one key see each other in order.
        let twice = try await c.apply([Self.counter("t/pair", 3, limit: 5), Self.counter("t/pair", 3, limit: 5)])
        #expect(twice.bool("allowed") == false)
        #expect(try await c.call(.get, "/internal/v1/counters/t/pair").status == 404)
        await c.stop()
    }

    @Test func counterWindowsExpireAndBadOpsAreRefused() async throws {
        let c = try await CacheTestHost.start()
        // A long window refuses once full, with retry_after until the window ends.
        #expect(try await c.apply([Self.counter("t/day", 1, limit: 1, ttl: 1000)]).bool("allowed") == true)
        let full = try await c.apply([Self.counter("t/day", 1, limit: 1, ttl: 1000)])
        #expect(full.bool("allowed") == false)
        let retry = Self.results(full).first?["retry_after_ms"] as? Int ?? -1
        #expect(retry > 990_000 && retry <= 1_000_000)
        // A 1 s window at its limit lets another increment through once it ends (polled).
        #expect(try await c.apply([Self.counter("t/win", 1, limit: 1, ttl: 1)]).bool("allowed") == true)
        let reset = try await cacheEventually(timeout: .seconds(10)) {
            try await c.apply([Self.counter("t/win", 1, limit: 1, ttl: 1)]).bool("allowed") == true
        }
        #expect(reset, "a new window starts once the old one ends")

        let cases: [([[String: Any]], String)] = [
            ([], "invalid_field"),
            (Array(repeating: Self.counter("t/x", 1, limit: 1), count: 17), "invalid_field"),
            ([["key": "t/x", "kind": "gauge", "amount": 1, "ttl_seconds": 1]], "invalid_field"),
            ([["key": "t/x", "kind": "bucket", "amount": 1, "ttl_seconds": 1, "refill_per_second": 1]], "missing_field"),
            ([["key": "t/x", "kind": "bucket", "amount": 1, "ttl_seconds": 1, "capacity": 0, "refill_per_second": 1]], "invalid_field"),
            ([["key": "t/x", "kind": "counter", "amount": 1, "ttl_seconds": 0]], "invalid_field"),
            ([["key": "t/x", "kind": "counter", "amount": 1]], "missing_field"),
            ([["key": "t/x", "kind": "counter", "amount": 1, "ttl_seconds": 5, "extra": 1]], "unknown_field"),
            ([["key": "t/x", "kind": "counter", "amount": 1.5, "ttl_seconds": 5]], "invalid_field"),
        ]
        for (ops, code) in cases {
            let r = try await c.apply(ops)
            #expect(r.status == 422, "\(ops): \(r.text)")
            #expect(r.errorCode == code, "\(ops): \(r.text)")
        }
        // Integers beyond 2^53 are not exact as JSON numbers read by most parsers: refused by name.
        let huge = try await c.apply([["key": "t/x", "kind": "counter", "amount": 1, "ttl_seconds": 5, "limit": 1e16]])
        #expect(huge.status == 422)
        #expect(huge.errorCode == "invalid_field")
        #expect(huge.text.contains("2^53") && huge.text.contains("limit"), "\(huge.text)")
        // A key is one kind for its life.
        #expect(try await c.apply([Self.counter("t/kind", 1, limit: nil)]).status == 200)
        let clash = try await c.apply([Self.bucket("t/kind", 1, capacity: 1, refill: 1)])
        #expect(clash.status == 409)
        #expect(clash.errorCode == "counter_kind_mismatch")
        #expect(try await c.call(.get, "/internal/v1/counters/t/none").errorCode == "counter_not_found")
        await c.stop()
    }
}

extension CacheTestHost {
    /// Another client (its own event loop and connections) on the same running service.
    static func attach(to other: CacheTestHost) async throws -> CacheTestHost {
        try CacheTestHost(sharing: other)
    }
}
