import Shared
import Synchronization

/// Collects a job's text deltas and appends them to its stream in batches: one append call per
/// `maxCount` deltas or per `window` after the first pending one, in order, from one task.
///
/// The sending task sleeps while nothing can happen: it waits for the first delta, then for
/// whichever comes first of "batch full", "job finished" or the end of the window (one timer per
/// window). No polling: a job that streams a token every 50 ms costs one wake-up per batch, not
/// one per poll interval.
final class DeltaBatcher: Sendable {
    /// What the sending task waits for.
    private enum Wait {
        /// A first pending delta (or the end).
        case firstDelta
        /// The window with this number to end, the batch to fill, or the job to finish.
        case windowEnd(UInt64)
    }

    private struct State {
        var pending: [String] = []
        var finished = false
        /// Number of the current window; a timer of an older one has no effect.
        var window: UInt64 = 0
        var windowExpired = false
        var waiter: (continuation: CheckedContinuation<Void, Never>, wait: Wait)?

        func satisfies(_ wait: Wait, maxCount: Int) -> Bool {
            switch wait {
            case .firstDelta: return !pending.isEmpty || finished
            case .windowEnd(let id): return finished || pending.count >= maxCount || (windowExpired && window == id)
            }
        }

        /// Takes the waiter if what it waits for now holds (resumed by the caller, outside the lock).
        mutating func takeWaiterIfSatisfied(maxCount: Int) -> CheckedContinuation<Void, Never>? {
            guard let w = waiter, satisfies(w.wait, maxCount: maxCount) else { return nil }
            waiter = nil
            return w.continuation
        }
    }

    private let jobID: String
    private let send: @Sendable ([QueueBrokerClient.NewEvent]) async -> Void
    private let maxCount: Int
    private let window: Duration
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// - Parameters:
    ///   - maxCount: deltas that make a batch full (sent at once).
    ///   - window: longest a pending delta waits for others.
    ///   - send: appends one batch (at most 100 events) to the job's stream.
    init(jobID: String, maxCount: Int = 16, window: Duration = .milliseconds(50), send: @escaping @Sendable ([QueueBrokerClient.NewEvent]) async -> Void) {
        self.jobID = jobID; self.maxCount = max(1, maxCount); self.window = window; self.send = send
        let t = Task { [self] in await loop() }
        task.withLock { $0 = t }
    }

    /// Queues a delta (empty text is ignored).
    func add(_ text: String) {
        guard !text.isEmpty else { return }
        let maxCount = self.maxCount
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.pending.append(text)
            return s.takeWaiterIfSatisfied(maxCount: maxCount)
        }
        wake?.resume()
    }

    /// Sends what is pending and stops.
    func finish() async {
        let maxCount = self.maxCount
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.finished = true
            return s.takeWaiterIfSatisfied(maxCount: maxCount)
        }
        wake?.resume()
        await task.withLock { $0 }?.value
    }

    private func loop() async {
        while true {
            await suspend(until: .firstDelta)
            // Give the batch its window to fill, unless it is full or the job ended.
            let id = state.withLock { s -> UInt64 in
                s.window &+= 1
                s.windowExpired = false
                return s.window
            }
            if !state.withLock({ $0.satisfies(.windowEnd(id), maxCount: maxCount) }) {
                let timer = Task { [window] in
                    // Cancelled when the batch fills or the job ends first.
                    do { try await Task.sleep(for: window) } catch { return }
                    self.expire(id)
                }
                await suspend(until: .windowEnd(id))
                timer.cancel()
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

    /// The window numbered `id` is over.
    private func expire(_ id: UInt64) {
        let maxCount = self.maxCount
        let wake = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.window == id else { return nil }
            s.windowExpired = true
            return s.takeWaiterIfSatisfied(maxCount: maxCount)
        }
        wake?.resume()
    }

    /// Suspends until `wait` holds; the wakers resume only then, so there are no spurious wake-ups.
    private func suspend(until wait: Wait) async {
        let maxCount = self.maxCount
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.satisfies(wait, maxCount: maxCount) { return true }
                s.waiter = (c, wait)
                return false
            }
            if now { c.resume() }
        }
    }
}
