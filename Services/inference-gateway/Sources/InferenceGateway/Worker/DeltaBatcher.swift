import Shared
import Synchronization

/// Collects a job's text deltas and appends them to its stream in batches: one append call per
/// `maxCount` deltas or per `window` after the first pending one, in order, from one task.
final class DeltaBatcher: Sendable {
    private struct State {
        var pending: [String] = []
        var finished = false
        var wake: CheckedContinuation<Void, Never>?
    }

    private let jobID: String
    private let send: @Sendable ([QueueBrokerClient.NewEvent]) async -> Void
    private let maxCount: Int
    private let window: Duration
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(jobID: String, maxCount: Int = 16, window: Duration = .milliseconds(50), send: @escaping @Sendable ([QueueBrokerClient.NewEvent]) async -> Void) {
        self.jobID = jobID; self.maxCount = maxCount; self.window = window; self.send = send
        let t = Task { [self] in await loop() }
        task.withLock { $0 = t }
    }

    func add(_ text: String) {
        guard !text.isEmpty else { return }
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.pending.append(text)
            defer { s.wake = nil }
            return s.wake
        }
        wake?.resume()
    }

    /// Sends what is pending and stops.
    func finish() async {
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.finished = true
            defer { s.wake = nil }
            return s.wake
        }
        wake?.resume()
        await task.withLock { $0 }?.value
    }

    private func loop() async {
        while true {
            // Wait for the first delta (or the end).
            await waitUntil { !$0.pending.isEmpty || $0.finished }
            // Give the batch its window to fill, unless it is full or the job ended.
            let deadline = ContinuousClock.now + window
            while ContinuousClock.now < deadline {
                let ready = state.withLock { $0.pending.count >= maxCount || $0.finished }
                if ready { break }
                try? await Task.sleep(for: .milliseconds(5))
            }
            let (batch, done) = state.withLock { s -> ([String], Bool) in
                let b = s.pending
                s.pending.removeAll()
                return (b, s.finished)
            }
            if !batch.isEmpty {
                let id = jobID
                // Batches of at most 100 events per append (queue-broker's limit).
                for chunk in stride(from: 0, to: batch.count, by: 100) {
                    let events = batch[chunk..<min(batch.count, chunk + 100)].map {
                        QueueBrokerClient.NewEvent(type: AIJobEventType.delta.rawValue, data: AIJobEventData(jobID: id, content: $0))
                    }
                    await send(events)
                }
            }
            if done && state.withLock({ $0.pending.isEmpty }) { return }
        }
    }

    private func waitUntil(_ condition: @escaping @Sendable (State) -> Bool) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if condition(s) { return true }
                s.wake = c
                return false
            }
            if now { c.resume() }
        }
    }
}
