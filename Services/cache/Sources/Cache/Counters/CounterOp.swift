/// One operation of `POST /internal/v1/counters/apply` (validated by the HTTP layer).
struct CounterOp: Sendable {
    enum Kind: String, Sendable {
        case bucket, counter
    }

    var key: String
    var kind: Kind
    /// Positive: take/count; negative: refund (always applied).
    var amount: Int
    /// Bucket: tokens when full.
    var capacity: Int
    /// Bucket: tokens added per second.
    var refillPerSecond: Double
    /// Counter: the most the window may count (nil: no limit).
    var limit: Int?
    /// Counter: the window length (fixed at creation). Bucket: idle time before it is dropped.
    var ttlMs: Int64
    /// Applied even when not allowed (charges beyond a reservation).
    var force: Bool
}

/// The outcome of one op.
struct CounterOpResult: Sendable {
    var key: String
    var allowed: Bool
    var value: Int
    var limit: Int?
    var retryAfterMs: Int64
}

/// `GET /internal/v1/counters/{key}`.
struct CounterSnapshot: Sendable {
    var key: String
    var kind: CounterOp.Kind
    var value: Int
    /// Counter limit, or bucket capacity.
    var limit: Int?
    var expiresAt: Int64
}
