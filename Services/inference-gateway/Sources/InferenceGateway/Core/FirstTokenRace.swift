import Synchronization

/// The outcome of a stream's first-token attempt, settled once by whichever comes first: the
/// attempt (its result) or the deadline (`TimedOut`). The waiting task resumes on the first.
final class FirstTokenRace: Sendable {
    /// The deadline passed before the attempt finished.
    struct TimedOut: Error {}

    private struct State {
        var result: Result<ChatService.Started, any Error>?
        var waiter: CheckedContinuation<Result<ChatService.Started, any Error>, Never>?
    }

    private let state = Mutex(State())

    /// Settles the race; later calls are ignored (a late attempt's stream is dropped, which
    /// closes its connection).
    func finish(_ result: Result<ChatService.Started, any Error>) {
        let waiter = state.withLock { s -> CheckedContinuation<Result<ChatService.Started, any Error>, Never>? in
            if s.result != nil { return nil }
            s.result = result
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: result)
    }

    /// Waits for the first outcome. Not cancellable by itself: cancelling the caller cancels
    /// the attempt (a child task), which then settles the race with its error.
    func value() async -> Result<ChatService.Started, any Error> {
        if let result = state.withLock({ $0.result }) { return result }
        return await withCheckedContinuation { c in
            let ready = state.withLock { s -> Result<ChatService.Started, any Error>? in
                if let r = s.result { return r }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }
}
