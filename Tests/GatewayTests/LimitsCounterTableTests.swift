@testable import InferenceGateway
import Testing

/// The counter rules (the cache service's contract) as the local store implements them, on a
/// deterministic clock.
@Suite("Limits: counter table")
struct LimitsCounterTableTests {
    @Test func bucketStartsFullRefusesBeyondAndRefills() {
        var t = CounterTable()
        let take = { (n: Int) in CounterOp.bucket("b", amount: n, capacity: 60) }  // 1 token/s
        let first = t.apply([take(50)], now: 0)
        #expect(first.allowed && first.results[0].value == 10)
        let refused = t.apply([take(20)], now: 0)
        #expect(!refused.allowed)
        #expect(refused.results[0].retryAfterMs == 10_000)  // 10 more tokens at 1/s
        #expect(t.value("b", now: 0) == 10)  // nothing applied
        #expect(t.apply([take(20)], now: 10).allowed)
    }

    @Test func oneRefusalAppliesNothingAndForceAndRefundsAlwaysApply() {
        var t = CounterTable()
        let ops = [CounterOp.counter("c", amount: 1, limit: 1, window: 60), .bucket("b", amount: 5, capacity: 60)]
        #expect(t.apply(ops, now: 0).allowed)
        let second = t.apply(ops, now: 0)
        #expect(!second.allowed)
        #expect(second.results.first { $0.key == "c" }?.allowed == false)
        #expect(second.results.first { $0.key == "b" }?.allowed == true)
        #expect(t.value("b", now: 0) == 55)  // the bucket op was not applied either
        // Force may push a bucket into debt; refunds cap at capacity; counters floor at 0.
        #expect(t.apply([.bucket("b", amount: 100, capacity: 60, force: true)], now: 0).results[0].value == -45)
        #expect(t.apply([.bucket("b", amount: -1000, capacity: 60, force: true)], now: 0).results[0].value == 60)
        #expect(t.apply([.counter("c", amount: -5, limit: 1, window: 60)], now: 0).results[0].value == 0)
    }

    @Test func counterWindowEndsAndRetryAfterPointsToIt() {
        var t = CounterTable()
        #expect(t.apply([.counter("d", amount: 90, limit: 100, window: 30)], now: 0).allowed)
        let refused = t.apply([.counter("d", amount: 20, limit: 100, window: 30)], now: 10)
        #expect(!refused.allowed && refused.results[0].retryAfterMs == 20_000)
        #expect(t.apply([.counter("d", amount: 20, limit: 100, window: 30)], now: 30).allowed)
    }

    @Test func resetHeadersUseOpenAISpelling() {
        #expect(TenantLimiter.formatReset(0) == "0s")
        #expect(TenantLimiter.formatReset(0.02) == "20ms")
        #expect(TenantLimiter.formatReset(6) == "6s")
        #expect(TenantLimiter.formatReset(90) == "1m30s")
    }
}
