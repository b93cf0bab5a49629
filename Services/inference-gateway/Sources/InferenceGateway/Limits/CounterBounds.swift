/// The ranges the cache service's counter store accepts (`POST /internal/v1/counters/apply`,
/// see the cache's `CounterRoutes`). Every `CounterOp` is clamped into them before it leaves the
/// gateway: a plan may spell "unlimited" as a huge number (10^15 µ$ a minute), and sending that
/// as a bucket capacity would get a 422 for every request instead of an effectively unlimited
/// bucket.
///
/// ```swift
/// CounterBounds.capacity(5_000_000_000_000)  // 1_000_000_000_000
/// ```
enum CounterBounds {
    /// Largest bucket capacity, refill per second and |amount| the store accepts.
    static let maxAmount = 1_000_000_000_000
    /// Largest counter ceiling the store accepts: its range check says `Int.max / 2`, but it
    /// reads every number as a Double and refuses integers beyond 2^53 ("must be an integer").
    static let maxLimit = 9_007_199_254_740_992
    /// Longest window or bucket idle time the store accepts.
    static let maxTTLSeconds = 366 * 86_400

    /// A bucket capacity in `1...maxAmount` (the limiter refuses zero limits before any op is built).
    static func capacity(_ value: Int) -> Int { min(max(1, value), maxAmount) }
    /// An amount in `-maxAmount...maxAmount`.
    static func amount(_ value: Int) -> Int { min(max(-maxAmount, value), maxAmount) }
    /// A counter ceiling in `0...maxLimit`.
    static func limit(_ value: Int) -> Int { min(max(0, value), maxLimit) }
    /// A window in `1...maxTTLSeconds`.
    static func ttlSeconds(_ value: Int) -> Int { min(max(1, value), maxTTLSeconds) }
    /// A refill rate in `0...maxAmount` (0 for NaN).
    static func refill(_ value: Double) -> Double { value.isFinite ? min(max(0, value), Double(maxAmount)) : (value > 0 ? Double(maxAmount) : 0) }

    /// `a × b`, saturating at `maxLimit` instead of trapping on overflow (plan values come from auth).
    static func product(_ a: Int, _ b: Int) -> Int {
        let (p, overflow) = a.multipliedReportingOverflow(by: b)
        return overflow ? maxLimit : limit(p)
    }
}
