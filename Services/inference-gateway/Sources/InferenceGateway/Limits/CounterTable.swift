/// The counter rules of the cache service's contract, in memory, with an explicit clock so the
/// arithmetic is testable: token buckets that start full and refill continuously, counters that
/// start at 0 and reset when their window ends; one call applies all its ops or none.
struct CounterTable: Sendable {
    private enum Entry: Sendable {
        case bucket(tokens: Double, capacity: Double, refill: Double, updated: Double, idle: Double)
        case counter(value: Int, limit: Int?, expires: Double)
    }

    private var entries: [String: Entry] = [:]
    /// Entries kept before a sweep of expired ones.
    private let sweepThreshold: Int

    init(sweepThreshold: Int = 50_000) { self.sweepThreshold = sweepThreshold }

    var count: Int { entries.count }

    /// Applies `ops` at `now` (seconds on a monotonic clock).
    mutating func apply(_ ops: [CounterOp], now: Double) -> CounterApplyResult {
        if entries.count > sweepThreshold { sweep(now: now) }
        // Current state of every key after refill / window expiry, before this call.
        var state: [String: Entry] = [:]
        for op in ops where state[op.key] == nil { state[op.key] = current(op, now: now) }
        var results: [CounterApplyResult.OpResult] = []
        var allowed = true
        var working = state
        for op in ops {
            guard let entry = working[op.key] else { continue }
            let (ok, retry) = Self.check(op, entry, now: now)
            if !ok && !op.force && op.amount > 0 { allowed = false }
            results.append(.init(key: op.key, allowed: ok || op.force || op.amount <= 0, value: Self.value(entry), limit: Self.limit(entry), retryAfterMs: ok ? 0 : retry))
            working[op.key] = Self.applying(op, to: entry)
        }
        if allowed {
            for (key, entry) in working { entries[key] = entry }
            // Report values after the call.
            for i in results.indices { if let e = working[results[i].key] { results[i].value = Self.value(e) } }
        } else {
            for (key, entry) in state { entries[key] = entry }
        }
        return CounterApplyResult(allowed: allowed, results: results)
    }

    /// The value of `key` at `now`, if it exists.
    func value(_ key: String, now: Double) -> Int? {
        guard let e = entries[key] else { return nil }
        switch e {
        case .bucket(let tokens, let capacity, let refill, let updated, _):
            return Int(min(capacity, tokens + max(0, now - updated) * refill).rounded(.down))
        case .counter(let value, _, let expires): return now >= expires ? 0 : value
        }
    }

    private func current(_ op: CounterOp, now: Double) -> Entry {
        switch (op.kind, entries[op.key]) {
        case (.bucket, .bucket(let tokens, _, _, let updated, _)?):
            let capacity = Double(max(0, op.capacity ?? 0))
            let refill = max(0, op.refillPerSecond ?? 0)
            // Idle past its TTL: it would have been dropped, so it starts full again.
            let filled = min(capacity, tokens + max(0, now - updated) * refill)
            return .bucket(tokens: filled, capacity: capacity, refill: refill, updated: now, idle: Double(op.ttlSeconds))
        case (.counter, .counter(let value, _, let expires)?) where now < expires:
            return .counter(value: value, limit: op.limit, expires: expires)
        case (.bucket, _):
            let capacity = Double(max(0, op.capacity ?? 0))
            return .bucket(tokens: capacity, capacity: capacity, refill: max(0, op.refillPerSecond ?? 0), updated: now, idle: Double(op.ttlSeconds))
        case (.counter, _):
            return .counter(value: 0, limit: op.limit, expires: now + Double(max(1, op.ttlSeconds)))
        }
    }

    private static func check(_ op: CounterOp, _ entry: Entry, now: Double) -> (Bool, Int) {
        if op.amount <= 0 { return (true, 0) }
        switch entry {
        case .bucket(let tokens, let capacity, let refill, _, _):
            if tokens >= Double(op.amount) { return (true, 0) }
            if refill <= 0 || Double(op.amount) > capacity { return (false, Int.max / 2) }
            return (false, Int(((Double(op.amount) - tokens) / refill * 1000).rounded(.up)))
        case .counter(let value, let limit, let expires):
            guard let limit else { return (true, 0) }
            if value + op.amount <= limit { return (true, 0) }
            return (false, max(1, Int(((expires - now) * 1000).rounded(.up))))
        }
    }

    private static func applying(_ op: CounterOp, to entry: Entry) -> Entry {
        switch entry {
        case .bucket(let tokens, let capacity, let refill, let updated, let idle):
            return .bucket(tokens: min(capacity, tokens - Double(op.amount)), capacity: capacity, refill: refill, updated: updated, idle: idle)
        case .counter(let value, let limit, let expires):
            return .counter(value: max(0, value + op.amount), limit: limit, expires: expires)
        }
    }

    private static func value(_ entry: Entry) -> Int {
        switch entry {
        case .bucket(let tokens, _, _, _, _): Int(tokens.rounded(.down))
        case .counter(let value, _, _): value
        }
    }

    private static func limit(_ entry: Entry) -> Int? {
        switch entry {
        case .bucket(_, let capacity, _, _, _): Int(capacity)
        case .counter(_, let limit, _): limit
        }
    }

    private mutating func sweep(now: Double) {
        entries = entries.filter { _, e in
            switch e {
            case .bucket(_, _, _, let updated, let idle): now - updated < idle
            case .counter(_, _, let expires): now < expires
            }
        }
    }
}
