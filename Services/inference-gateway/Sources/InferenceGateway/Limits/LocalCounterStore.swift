import Synchronization

/// Counters in this process: the store without `CACHE_URL` (one replica) and the fallback when
/// the cache service is unreachable and `GATEWAY_LIMITS_ON_STORE_FAILURE=open` (limits then hold
/// per replica, not globally).
public final class LocalCounterStore: CounterStore {
    /// Seconds on a monotonic clock (injectable for tests).
    public typealias Clock = @Sendable () -> Double

    private let table = Mutex(CounterTable())
    private let clock: Clock

    public init(clock: @escaping Clock = LocalCounterStore.monotonicSeconds) { self.clock = clock }

    public static let monotonicSeconds: Clock = {
        let c = ContinuousClock.now - LocalCounterStore.origin
        return Double(c.components.seconds) + Double(c.components.attoseconds) / 1e18
    }
    private static let origin = ContinuousClock.now

    public func apply(_ ops: [CounterOp]) async throws -> CounterApplyResult { applyNow(ops) }

    /// The same as `apply`, synchronously.
    public func applyNow(_ ops: [CounterOp]) -> CounterApplyResult {
        let now = clock()
        return table.withLock { $0.apply(ops, now: now) }
    }

    /// The current value of `key` (for tests and diagnostics).
    public func value(_ key: String) -> Int? {
        let now = clock()
        return table.withLock { $0.value(key, now: now) }
    }
}
