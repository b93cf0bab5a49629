import Dispatch
import Synchronization

/// Deadlines for many short waits (a stream's first token), checked by one shared watcher.
///
/// Racing each wait against its own `Task.sleep` costs a task, a task group and a dispatch
/// timer per call, and a cancelled sleep's timer stays queued until its deadline (at 10k
/// streams/s and a 30 s first-token timeout, 300k of them: memory that grows with load). Here
/// a call costs one lock and one dictionary entry, and one dispatch timer is armed for the
/// earliest pending deadline (re-armed only when an earlier one arrives, at most once per
/// `granularity` after a firing), so a few waiting streams cost a few wake-ups rather than a
/// tick every `granularity`. Deadlines fire up to `granularity` late, which is fine for
/// timeouts measured in hundreds of milliseconds. The timer runs on a dispatch queue of its
/// own, not on Swift's cooperative pool, so a pool kept busy by other work cannot hold a
/// timeout back.
///
/// ```swift
/// let token = watch.add(after: .seconds(10)) { abort() }
/// defer { watch.remove(token) }
/// ```
final class DeadlineWatch: Sendable {
    private struct Entry {
        var deadline: ContinuousClock.Instant
        var action: @Sendable () -> Void
    }

    private struct State {
        var entries: [UInt64: Entry] = [:]
        var nextToken: UInt64 = 1
        /// When the armed timer fires (nil: none armed). Timers armed earlier for later
        /// instants may still be queued; they find nothing due and arm nothing new.
        var armed: ContinuousClock.Instant?

        /// Arms for `instant` unless the armed timer fires no later than `granularity` after it.
        mutating func arm(_ instant: ContinuousClock.Instant, granularity: Duration) -> ContinuousClock.Instant? {
            if let armed, armed <= instant + granularity { return nil }
            armed = instant
            return instant
        }
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "bulkhead.gateway.deadline-watch")
    let granularity: Duration

    init(granularity: Duration = .milliseconds(10)) {
        self.granularity = granularity
    }

    /// Runs `action` (on the watcher's queue) once `timeout` has passed, unless removed first.
    func add(after timeout: Duration, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = ContinuousClock.now + timeout
        let granularity = self.granularity
        let (token, arm) = state.withLock { s -> (UInt64, ContinuousClock.Instant?) in
            let token = s.nextToken
            s.nextToken += 1
            s.entries[token] = Entry(deadline: deadline, action: action)
            return (token, s.arm(deadline, granularity: granularity))
        }
        if let arm { schedule(at: arm) }
        return token
    }

    /// Forgets a deadline (no effect once it fired). The armed timer stays: when it fires it
    /// finds nothing due and re-arms for whatever is left.
    func remove(_ token: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: token) }
    }

    /// Pending deadlines (tests).
    var count: Int { state.withLock { $0.entries.count } }

    private func schedule(at instant: ContinuousClock.Instant) {
        let c = (instant - ContinuousClock.now).components
        let nanos = max(0, Int(c.seconds) * 1_000_000_000 + Int(c.attoseconds / 1_000_000_000))
        queue.asyncAfter(deadline: .now() + .nanoseconds(nanos)) { self.fire(armedFor: instant) }
    }

    /// A timer went off: fires what is due and arms for the earliest deadline left.
    private func fire(armedFor instant: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        let granularity = self.granularity
        let (expired, arm) = state.withLock { s -> ([@Sendable () -> Void], ContinuousClock.Instant?) in
            if s.armed == instant { s.armed = nil }
            var expired: [@Sendable () -> Void] = []
            var fired: [UInt64] = []
            var next: ContinuousClock.Instant?
            for (token, e) in s.entries {
                if e.deadline <= now {
                    expired.append(e.action)
                    fired.append(token)
                } else if next.map({ e.deadline < $0 }) ?? true {
                    next = e.deadline
                }
            }
            for token in fired { s.entries.removeValue(forKey: token) }
            // At most one firing per `granularity`, however dense the deadlines.
            guard let next else { return (expired, nil) }
            return (expired, s.arm(max(next, now + granularity), granularity: granularity))
        }
        for action in expired { action() }
        if let arm { schedule(at: arm) }
    }
}
