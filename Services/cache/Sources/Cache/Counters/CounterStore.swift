import Synchronization

/// Atomic counters and token buckets for global rate limits and budgets, in memory behind one
/// `Mutex`: an `apply` call holds the lock for a few dictionary operations, with no actor hop
/// and no I/O, so it can sit on every gateway request. Not persisted: a restart resets every
/// bucket to full and every counter to zero (see the README).
final class CounterStore: Sendable {
    /// The outcome of one `apply`.
    struct Outcome: Sendable {
        var allowed: Bool
        var results: [CounterOpResult]
    }

    private let table = Mutex<[String: CounterState]>([:])
    let maxCounters: Int
    let now: @Sendable () -> Int64

    init(maxCounters: Int, now: @escaping @Sendable () -> Int64 = CacheClock.nowMs) {
        self.maxCounters = maxCounters
        self.now = now
    }

    /// Applies `ops` atomically: if any op without `force` is not allowed, none is applied.
    /// Ops on the same key see each other's effects in order.
    func apply(_ ops: [CounterOp]) throws(CacheError) -> Outcome {
        let t = now()
        return try table.withLock { table throws(CacheError) -> Outcome in
            // The working copy of the touched keys; committed only when every op is allowed.
            var work: [(key: String, state: CounterState, isNew: Bool)] = []
            work.reserveCapacity(ops.count)
            var results: [CounterOpResult] = []
            results.reserveCapacity(ops.count)
            var before: [Int] = []
            before.reserveCapacity(ops.count)
            var allAllowed = true
            for op in ops {
                let slot: Int
                if let i = work.firstIndex(where: { $0.key == op.key }) {
                    slot = i
                } else if let existing = table[op.key], existing.expiresAt > t {
                    work.append((op.key, existing, false))
                    slot = work.count - 1
                } else {
                    work.append((op.key, CounterState.new(for: op, at: t), true))
                    slot = work.count - 1
                }
                guard work[slot].state.kind == op.kind else {
                    throw CacheError(
                        .conflict, "counter_kind_mismatch",
                        "Counter '\(op.key)' is a \(work[slot].state.kind.rawValue), not a \(op.kind.rawValue).")
                }
                work[slot].state.advance(to: t, with: op)
                before.append(work[slot].state.value)
                let allowed = work[slot].state.allows(op.amount)
                if allowed || op.force {
                    work[slot].state.apply(op.amount, at: t)
                }
                if !allowed && !op.force { allAllowed = false }
                results.append(CounterOpResult(
                    key: op.key, allowed: allowed, value: work[slot].state.value, limit: work[slot].state.limit,
                    retryAfterMs: allowed ? 0 : work[slot].state.retryAfterMs(for: op.amount, at: t)))
            }
            guard allAllowed else {
                // Nothing applied: report each key's value as it stands.
                for i in results.indices { results[i].value = before[i] }
                return Outcome(allowed: false, results: results)
            }
            let newKeys = work.reduce(0) { $0 + ($1.isNew && table[$1.key] == nil ? 1 : 0) }
            if newKeys > 0, table.count + newKeys > maxCounters {
                Self.dropExpired(&table, at: t)
                guard table.count + newKeys <= maxCounters else {
                    throw CacheError(.serviceUnavailable, "counters_full", "The counter table holds its maximum of \(maxCounters) live keys.")
                }
            }
            for w in work { table[w.key] = w.state }
            return Outcome(allowed: true, results: results)
        }
    }

    /// The live state of `key`, brought to now.
    func snapshot(_ key: String) -> CounterSnapshot? {
        let t = now()
        return table.withLock { table -> CounterSnapshot? in
            guard var state = table[key], state.expiresAt > t else { return nil }
            if case .bucket(var b) = state {
                b.refill(at: t)
                state = .bucket(b)
            }
            return CounterSnapshot(key: key, kind: state.kind, value: state.value, limit: state.limit, expiresAt: state.expiresAt)
        }
    }

    /// Drops expired keys; returns how many.
    @discardableResult
    func sweep() -> Int {
        let t = now()
        return table.withLock { Self.dropExpired(&$0, at: t) }
    }

    /// Live keys (expired ones not yet swept included).
    var count: Int { table.withLock { $0.count } }

    @discardableResult
    private static func dropExpired(_ table: inout [String: CounterState], at t: Int64) -> Int {
        let before = table.count
        table = table.filter { $0.value.expiresAt > t }
        return before - table.count
    }
}
