import BulkheadHTTP
import Synchronization

/// Messages received by a WebSocket client connection, between its event loop (producer)
/// and the task calling `receive()` (consumer). The loop stops reading the socket while
/// `capacity` messages wait; the consumer resumes it (`onDrained`) once a quarter are taken.
final class WebSocketClientInbox: Sendable {
    /// How the message stream ended.
    enum Ending: Sendable {
        /// The closing handshake: the code and reason the server sent (nil code: an empty close frame).
        case closed(WebSocketCloseCode?, String)
        case failed(WebSocketClientError)
    }

    private struct State {
        var queue: [WebSocketMessage] = []
        var head = 0
        var waiter: CheckedContinuation<WebSocketMessage?, any Error>?
        var ending: Ending?
        var drainedSignalled = false
    }

    let capacity: Int
    private let state = Mutex(State())
    private let onDrained: @Sendable () -> Void

    init(capacity: Int, onDrained: @escaping @Sendable () -> Void) {
        self.capacity = max(1, capacity)
        self.onDrained = onDrained
    }

    /// How the stream ended, once it has.
    var ending: Ending? { state.withLock { $0.ending } }

    /// Queues (or hands over) a message; returns whether the queue is now full (stop reading).
    func push(_ message: WebSocketMessage) -> Bool {
        let (waiter, full) = state.withLock { s -> (CheckedContinuation<WebSocketMessage?, any Error>?, Bool) in
            if s.ending != nil { return (nil, false) }
            if let w = s.waiter {
                s.waiter = nil
                return (w, false)
            }
            s.queue.append(message)
            let full = s.queue.count - s.head >= capacity
            if full { s.drainedSignalled = false }
            return (nil, full)
        }
        waiter?.resume(returning: message)
        return full
    }

    /// Ends the stream; queued messages are still delivered first. Only the first ending counts.
    func finish(_ ending: Ending) {
        let waiter = state.withLock { s -> CheckedContinuation<WebSocketMessage?, any Error>? in
            if s.ending != nil { return nil }
            s.ending = ending
            defer { s.waiter = nil }
            return s.waiter
        }
        guard let waiter else { return }
        switch ending {
        case .closed: waiter.resume(returning: nil)
        case .failed(let error): waiter.resume(throwing: error)
        }
    }

    /// The next message; nil after a clean close; throws after a failure.
    func next() async throws -> WebSocketMessage? {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<WebSocketMessage?, any Error>) in
            enum Outcome {
                case message(WebSocketMessage, drained: Bool)
                case end(Ending)
                case parked
                case busy
            }
            let outcome = state.withLock { s -> Outcome in
                if s.head < s.queue.count {
                    let m = s.queue[s.head]
                    s.head += 1
                    let remaining = s.queue.count - s.head
                    if s.head == s.queue.count {
                        s.queue.removeAll(keepingCapacity: true)
                        s.head = 0
                    }
                    var drained = false
                    if !s.drainedSignalled && remaining <= capacity - max(1, capacity / 4) {
                        s.drainedSignalled = true
                        drained = true
                    }
                    return .message(m, drained: drained)
                }
                if let ending = s.ending { return .end(ending) }
                if s.waiter != nil { return .busy }
                s.waiter = c
                return .parked
            }
            switch outcome {
            case .message(let m, let drained):
                c.resume(returning: m)
                if drained { onDrained() }
            case .end(.closed):
                c.resume(returning: nil)
            case .end(.failed(let error)):
                c.resume(throwing: error)
            case .busy:
                c.resume(throwing: WebSocketClientError(.invalidRequest, "receive() called from two tasks at once"))
            case .parked:
                break
            }
        }
    }
}
