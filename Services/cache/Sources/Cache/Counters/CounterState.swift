/// The state of one key: a token bucket or a windowed counter. Pure value logic, no clock or
/// lock, so every rule is testable with explicit times (milliseconds since the epoch).
enum CounterState: Sendable {
    case bucket(Bucket)
    case counter(Counter)

    struct Bucket: Sendable {
        /// May go negative after a forced charge (debt paid back by refill).
        var tokens: Double
        var capacity: Int
        var refillPerSecond: Double
        var updatedAt: Int64
        var idleMs: Int64
        var lastUsedAt: Int64

        /// Adds the refill since `updatedAt`, capped at capacity.
        mutating func refill(at t: Int64) {
            if t > updatedAt {
                tokens = min(Double(capacity), tokens + Double(t - updatedAt) * refillPerSecond / 1000)
                updatedAt = t
            }
        }

        /// Dropped after `idleMs` without use, and never while it is still refilling
        /// (dropping it early would forgive debt or hand out a full bucket too soon).
        var expiresAt: Int64 {
            guard tokens < Double(capacity), refillPerSecond > 0 else { return lastUsedAt + idleMs }
            let fullAt = updatedAt + Int64(((Double(capacity) - tokens) / refillPerSecond * 1000).rounded(.up))
            return max(lastUsedAt + idleMs, fullAt)
        }

        /// Time until `amount` tokens are available; when that can never happen (more than the
        /// capacity, or no refill), the time until the bucket is full or dropped.
        func retryAfterMs(for amount: Int, at t: Int64) -> Int64 {
            if refillPerSecond <= 0 { return max(0, lastUsedAt + idleMs - t) }
            let target = Double(min(amount, capacity))
            return max(1, Int64(((target - tokens) / refillPerSecond * 1000).rounded(.up)))
        }

        var value: Int { Int(tokens.rounded(.down)) }
    }

    struct Counter: Sendable {
        var value: Int
        var limit: Int?
        var expiresAt: Int64
    }

    /// A fresh state for `op` at `t`: a full bucket, or an empty counter whose window starts now.
    static func new(for op: CounterOp, at t: Int64) -> CounterState {
        switch op.kind {
        case .bucket:
            return .bucket(Bucket(
                tokens: Double(op.capacity), capacity: op.capacity, refillPerSecond: op.refillPerSecond, updatedAt: t,
                idleMs: op.ttlMs, lastUsedAt: t))
        case .counter:
            return .counter(Counter(value: 0, limit: op.limit, expiresAt: t + op.ttlMs))
        }
    }

    var kind: CounterOp.Kind {
        switch self {
        case .bucket: return .bucket
        case .counter: return .counter
        }
    }

    var expiresAt: Int64 {
        switch self {
        case .bucket(let b): return b.expiresAt
        case .counter(let c): return c.expiresAt
        }
    }

    var value: Int {
        switch self {
        case .bucket(let b): return b.value
        case .counter(let c): return c.value
        }
    }

    var limit: Int? {
        switch self {
        case .bucket(let b): return b.capacity
        case .counter(let c): return c.limit
        }
    }

    /// Brings the state to `t` with `op`'s latest parameters (a bucket's capacity and rate, a
    /// counter's limit; a counter's window length applies from its next window).
    mutating func advance(to t: Int64, with op: CounterOp) {
        switch self {
        case .bucket(var b):
            b.refill(at: t)
            b.capacity = op.capacity
            b.refillPerSecond = op.refillPerSecond
            b.idleMs = op.ttlMs
            b.tokens = min(b.tokens, Double(op.capacity))
            self = .bucket(b)
        case .counter(var c):
            c.limit = op.limit
            self = .counter(c)
        }
    }

    /// Whether `amount` may be applied now.
    func allows(_ amount: Int) -> Bool {
        guard amount > 0 else { return true }
        switch self {
        case .bucket(let b): return b.tokens >= Double(amount)
        case .counter(let c):
            guard let limit = c.limit else { return true }
            return c.value <= limit - amount
        }
    }

    /// Applies `amount` (refunds capped at capacity for a bucket, floored at 0 for a counter).
    mutating func apply(_ amount: Int, at t: Int64) {
        switch self {
        case .bucket(var b):
            b.tokens = min(Double(b.capacity), b.tokens - Double(amount))
            b.lastUsedAt = t
            self = .bucket(b)
        case .counter(var c):
            let (sum, overflow) = c.value.addingReportingOverflow(amount)
            c.value = overflow ? (amount > 0 ? Int.max : 0) : max(0, sum)
            self = .counter(c)
        }
    }

    /// When a refused `amount` could be retried.
    func retryAfterMs(for amount: Int, at t: Int64) -> Int64 {
        switch self {
        case .bucket(let b): return b.retryAfterMs(for: amount, at: t)
        case .counter(let c): return max(0, c.expiresAt - t)
        }
    }
}
