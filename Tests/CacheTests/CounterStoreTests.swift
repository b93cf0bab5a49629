@testable import Cache
import Synchronization
import Testing

/// The counter rules with a driven clock (no waiting): refill, windows, debt, idle expiry.
@Suite struct CounterStoreTests {
    final class Clock: Sendable {
        let ms = Mutex<Int64>(1_000_000)
        func advance(_ d: Int64) { ms.withLock { $0 += d } }
        var now: @Sendable () -> Int64 { { [self] in ms.withLock { $0 } } }
    }

    static func bucket(_ amount: Int, capacity: Int = 10, rate: Double = 2, ttl: Int64 = 60_000, force: Bool = false) -> CounterOp {
        CounterOp(key: "k", kind: .bucket, amount: amount, capacity: capacity, refillPerSecond: rate, limit: nil, ttlMs: ttl, force: force)
    }

    @Test func bucketRefillsContinuouslyAndRetryAfterIsExact() throws {
        let clock = Clock()
        let store = CounterStore(maxCounters: 10, now: clock.now)
        #expect(try store.apply([Self.bucket(10)]).allowed)
        let refused = try store.apply([Self.bucket(3)])
        #expect(!refused.allowed)
        #expect(refused.results[0].retryAfterMs == 1500)  // 3 tokens at 2/s
        clock.advance(1499)
        #expect(!(try store.apply([Self.bucket(3)]).allowed))
        clock.advance(1)
        let ok = try store.apply([Self.bucket(3)])
        #expect(ok.allowed)
        #expect(ok.results[0].value == 0)
        clock.advance(4_000)
        #expect(store.snapshot("k")?.value == 8)
        clock.advance(2_000)
        #expect(store.snapshot("k")?.value == 10, "refill caps at capacity")
    }

    @Test func debtKeepsABucketAliveUntilRepaidThenIdleTTLDropsIt() throws {
        let clock = Clock()
        let store = CounterStore(maxCounters: 10, now: clock.now)
        _ = try store.apply([Self.bucket(30, rate: 1, ttl: 5_000, force: true)])  // 10 - 30 = -20
        #expect(store.snapshot("k")?.value == -20)
        clock.advance(10_000)  // past the idle TTL, but still 10 tokens in debt
        #expect(store.snapshot("k")?.value == -10)
        #expect(store.sweep() == 0)
        clock.advance(20_000)  // full again at +30 s
        #expect(store.snapshot("k") == nil)
        #expect(store.sweep() == 1)
    }

    @Test func counterWindowIsFixedAtCreationAndTheTableIsBounded() throws {
        let clock = Clock()
        let store = CounterStore(maxCounters: 2, now: clock.now)
        func op(_ key: String, _ amount: Int, ttl: Int64 = 1000) -> CounterOp {
            CounterOp(key: key, kind: .counter, amount: amount, capacity: 0, refillPerSecond: 0, limit: 5, ttlMs: ttl, force: false)
        }
        #expect(try store.apply([op("a", 5)]).allowed)
        clock.advance(900)
        let full = try store.apply([op("a", 1, ttl: 60_000)])
        #expect(!full.allowed)
        #expect(full.results[0].retryAfterMs == 100, "the window is not extended by later calls")
        clock.advance(100)
        #expect(try store.apply([op("a", 1)]).results[0].value == 1)
        #expect(try store.apply([op("b", 1)]).allowed)
        #expect(throws: CacheError.self) { try store.apply([op("c", 1)]) }
        clock.advance(5_000)
        #expect(try store.apply([op("c", 1)]).allowed, "expired keys make room")
    }
}
