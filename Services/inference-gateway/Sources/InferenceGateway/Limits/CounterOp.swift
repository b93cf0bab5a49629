/// One operation of the cache service's `POST /internal/v1/counters/apply` (and of the local
/// in-process store, which follows the same rules): a token bucket or a windowed counter.
public struct CounterOp: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable { case bucket, counter }

    public var key: String
    public var kind: Kind
    /// Positive to take, negative to give back (always applied).
    public var amount: Int
    /// Bucket size (bucket only).
    public var capacity: Int?
    /// Bucket refill per second (bucket only).
    public var refillPerSecond: Double?
    /// Counter ceiling; nil means no ceiling (counter only).
    public var limit: Int?
    /// Counter: the window, fixed at creation. Bucket: dropped after this long idle.
    public var ttlSeconds: Int
    /// Apply even when not allowed (charging actual usage beyond a reservation).
    public var force: Bool

    public init(
        key: String, kind: Kind, amount: Int, capacity: Int? = nil, refillPerSecond: Double? = nil, limit: Int? = nil,
        ttlSeconds: Int, force: Bool = false
    ) {
        self.key = key; self.kind = kind; self.amount = amount; self.capacity = capacity
        self.refillPerSecond = refillPerSecond; self.limit = limit; self.ttlSeconds = ttlSeconds; self.force = force
    }

    /// A token bucket that refills to `capacity` over `period`; values clamped to `CounterBounds`.
    public static func bucket(_ key: String, amount: Int, capacity: Int, per period: Double = 60, force: Bool = false) -> CounterOp {
        let capacity = CounterBounds.capacity(capacity)
        return CounterOp(
            key: key, kind: .bucket, amount: amount, capacity: capacity, refillPerSecond: Double(capacity) / max(1, period),
            ttlSeconds: Int(min(max(1, period), 86_400)) * 2, force: force
        ).clamped()
    }

    /// A counter whose window lasts `window` seconds from its creation; values clamped to `CounterBounds`.
    public static func counter(_ key: String, amount: Int, limit: Int?, window: Int, force: Bool = false) -> CounterOp {
        CounterOp(key: key, kind: .counter, amount: amount, limit: limit, ttlSeconds: window, force: force).clamped()
    }

    /// This op with every value inside what the counter store accepts (`CounterBounds`).
    func clamped() -> CounterOp {
        var op = self
        op.amount = CounterBounds.amount(amount)
        op.ttlSeconds = CounterBounds.ttlSeconds(ttlSeconds)
        switch kind {
        case .bucket:
            op.capacity = CounterBounds.capacity(capacity ?? 1)
            op.refillPerSecond = CounterBounds.refill(refillPerSecond ?? 0)
        case .counter:
            op.limit = limit.map(CounterBounds.limit)
        }
        return op
    }

    enum CodingKeys: String, CodingKey {
        case key, kind, amount, capacity, refillPerSecond = "refill_per_second", limit, ttlSeconds = "ttl_seconds", force
    }
}

/// The answer to one apply call: all operations applied (`allowed`) or none.
public struct CounterApplyResult: Codable, Sendable, Equatable {
    public struct OpResult: Codable, Sendable, Equatable {
        public var key: String
        public var allowed: Bool
        /// Bucket: tokens left. Counter: count in the window.
        public var value: Int
        public var limit: Int?
        /// When a refused op could succeed (bucket refill, counter window end).
        public var retryAfterMs: Int

        public init(key: String, allowed: Bool, value: Int, limit: Int?, retryAfterMs: Int) {
            self.key = key; self.allowed = allowed; self.value = value; self.limit = limit; self.retryAfterMs = retryAfterMs
        }

        enum CodingKeys: String, CodingKey { case key, allowed, value, limit, retryAfterMs = "retry_after_ms" }
    }

    public var allowed: Bool
    public var results: [OpResult]

    public init(allowed: Bool, results: [OpResult]) { self.allowed = allowed; self.results = results }
}

/// Where counters live: the cache service (global across replicas) or this process.
public protocol CounterStore: Sendable {
    /// Applies `ops` atomically (1–16 of them). Throws when the store cannot be reached.
    func apply(_ ops: [CounterOp]) async throws -> CounterApplyResult
}
