import Dispatch
import Synchronization

/// Deadlines for many short waits (a stream's first token), checked by one shared watcher.
///
/// Racing each wait against its own `Task.sleep` costs a task, a task group and a dispatch
/// timer per call, and a cancelled sleep's timer stays queued until its deadline (at 10k
/// streams/s and a 30 s first-token timeout, 300k of them: memory that grows with load). Here
/// a call costs one lock and one dictionary entry; one watcher ticks only while deadlines are
/// pending, every `granularity`, and fires the expired ones. Deadlines fire up to `granularity`
/// late, which is fine for timeouts measured in hundreds of milliseconds. The watcher ticks on
/// a dispatch queue of its own, not on Swift's cooperative pool, so a pool kept busy by other
/// work cannot hold a timeout back.
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
        /// No pending deadline is earlier than this (lets most ticks skip the scan).
        var earliest: ContinuousClock.Instant?
        var watching = false
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "bulkhead.gateway.deadline-watch")
    let granularity: Duration

    init(granularity: Duration = .milliseconds(10)) {
        self.granularity = granularity
    }

    /// Runs `action` (on the watcher's task) once `timeout` has passed, unless removed first.
    func add(after timeout: Duration, _ action: @escaping @Sendable () -> Void) -> UInt64 {
        let deadline = ContinuousClock.now + timeout
        let (token, start) = state.withLock { s -> (UInt64, Bool) in
            let token = s.nextToken
            s.nextToken += 1
            s.entries[token] = Entry(deadline: deadline, action: action)
            if s.earliest.map({ deadline < $0 }) ?? true { s.earliest = deadline }
            defer { s.watching = true }
            return (token, !s.watching)
        }
        if start { scheduleTick() }
        return token
    }

    /// Forgets a deadline (no effect once it fired).
    func remove(_ token: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: token) }
    }

    /// Pending deadlines (tests).
    var count: Int { state.withLock { $0.entries.count } }

    private func scheduleTick() {
        let c = granularity.components
        let nanos = Int(c.seconds) * 1_000_000_000 + Int(c.attoseconds / 1_000_000_000)
        queue.asyncAfter(deadline: .now() + .nanoseconds(max(1, nanos))) { self.tick() }
    }

    /// One tick: fires what is due; schedules the next tick unless nothing is pending.
    private func tick() {
        let now = ContinuousClock.now
        let (expired, done) = state.withLock { s -> ([@Sendable () -> Void], Bool) in
            var expired: [@Sendable () -> Void] = []
            if let earliest = s.earliest, earliest <= now {
                var next: ContinuousClock.Instant?
                var fired: [UInt64] = []
                for (token, e) in s.entries {
                    if e.deadline <= now {
                        expired.append(e.action)
                        fired.append(token)
                    } else if next.map({ e.deadline < $0 }) ?? true {
                        next = e.deadline
                    }
                }
                for token in fired { s.entries.removeValue(forKey: token) }
                s.earliest = next
            }
            if s.entries.isEmpty {
                // Stop; the next `add` starts ticking again (decided under the same lock).
                s.watching = false
                s.earliest = nil
                return (expired, true)
            }
            return (expired, false)
        }
        for action in expired { action() }
        if !done { scheduleTick() }
    }
}
