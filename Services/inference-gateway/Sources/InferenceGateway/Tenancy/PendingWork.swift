import Synchronization

/// Fire-and-forget work kept off the response path (limit reconciliation, cache stores) but
/// never lost at shutdown: `drain` waits for what is still running, up to a deadline.
final class PendingWork: Sendable {
    private struct State { var tasks: [Int: Task<Void, Never>] = [:]; var next = 0 }
    private let state = Mutex(State())

    /// Starts `work` now, tracked until it ends.
    func run(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { s in
            let id = s.next
            s.next += 1
            s.tasks[id] = Task { [weak self] in
                await work()
                self?.finished(id)
            }
        }
    }

    var count: Int { state.withLock { $0.tasks.count } }

    /// Waits until nothing is pending or `timeout` passed.
    func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let tasks = state.withLock { Array($0.tasks.values) }
            if tasks.isEmpty { return }
            // Poll rather than await each task: a hung one must not hold shutdown past the deadline.
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func finished(_ id: Int) { _ = state.withLock { $0.tasks.removeValue(forKey: id) } }
}
