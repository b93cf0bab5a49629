import Synchronization

/// A whole WebSocket data message.
public enum WebSocketMessage: Sendable, Equatable {
    case text(String)
    case binary([UInt8])
}

/// The server side of one upgraded connection, handed to a route's WebSocket handler.
/// Ping/pong and the closing handshake are handled for you.
public final class WebSocketSession: Sendable {
    /// The upgrade request.
    public let request: HTTPRequest
    let connection: HTTPConnection
    let inbox: WebSocketInbox

    init(request: HTTPRequest, connection: HTTPConnection, inbox: WebSocketInbox) {
        self.request = request
        self.connection = connection
        self.inbox = inbox
    }

    /// Messages from the client, in order; ends when the client closes or the connection drops.
    public var messages: WebSocketMessages { WebSocketMessages(inbox: inbox) }

    public func send(text: String) async throws {
        try await connection.webSocketSend(opcode: .text, payload: Array(text.utf8))
    }

    public func send(binary: [UInt8]) async throws {
        try await connection.webSocketSend(opcode: .binary, payload: binary)
    }

    /// Starts the closing handshake; further sends throw.
    public func close(code: WebSocketCloseCode = .normalClosure, reason: String = "") async {
        await connection.webSocketClose(code: code, reason: reason)
    }

    /// The close code the client sent, once it has.
    public var closeCode: WebSocketCloseCode? { inbox.closeCode }

    /// The close reason the client sent, once it has ("" when none).
    public var closeReason: String? { inbox.closeReason }

    /// The event loop running this connection. A task that outlives the handler's (which is
    /// cancelled when the client's socket closes) must prefer this executor to use the session.
    public var eventLoop: EventLoop { connection.loop }
}

/// An async sequence of incoming messages.
public struct WebSocketMessages: AsyncSequence, Sendable {
    public typealias Element = WebSocketMessage
    let inbox: WebSocketInbox
    public struct AsyncIterator: AsyncIteratorProtocol {
        let inbox: WebSocketInbox
        public mutating func next() async -> WebSocketMessage? { await inbox.next() }
    }
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inbox: inbox) }
}

/// A queue between the loop (producer) and the handler (consumer). The loop pauses reading
/// above `highWater` queued messages; the consumer resumes it at `lowWater`.
final class WebSocketInbox: Sendable {
    struct State {
        var queue: [WebSocketMessage] = []
        var head = 0
        var waiter: CheckedContinuation<WebSocketMessage?, Never>?
        var finished = false
        var closeCode: WebSocketCloseCode?
        var closeReason: String?
    }
    static let highWater = 64
    static let lowWater = 16
    private let state = Mutex(State())
    private let onDrained: @Sendable () -> Void

    init(onDrained: @escaping @Sendable () -> Void) { self.onDrained = onDrained }

    var closeCode: WebSocketCloseCode? { state.withLock { $0.closeCode } }
    var closeReason: String? { state.withLock { $0.closeReason } }

    /// Returns the number of queued messages after the push.
    func push(_ message: WebSocketMessage) -> Int {
        let (waiter, count) = state.withLock { s -> (CheckedContinuation<WebSocketMessage?, Never>?, Int) in
            if s.finished { return (nil, 0) }
            if let w = s.waiter {
                s.waiter = nil
                return (w, 0)
            }
            s.queue.append(message)
            return (nil, s.queue.count - s.head)
        }
        waiter?.resume(returning: message)
        return count
    }

    func finish(closeCode: WebSocketCloseCode?, reason: String? = nil) {
        let waiter = state.withLock { s -> CheckedContinuation<WebSocketMessage?, Never>? in
            if s.finished { return nil }
            s.finished = true
            if s.closeCode == nil { s.closeCode = closeCode }
            if s.closeReason == nil { s.closeReason = reason }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    func next() async -> WebSocketMessage? {
        await withCheckedContinuation { (c: CheckedContinuation<WebSocketMessage?, Never>) in
            let (value, resumeNow, drained) = state.withLock { s -> (WebSocketMessage?, Bool, Bool) in
                if s.head < s.queue.count {
                    let m = s.queue[s.head]
                    s.head += 1
                    let remaining = s.queue.count - s.head
                    if s.head == s.queue.count {
                        s.queue.removeAll(keepingCapacity: true)
                        s.head = 0
                    }
                    return (m, true, remaining == WebSocketInbox.lowWater)
                }
                if s.finished { return (nil, true, false) }
                s.waiter = c
                return (nil, false, false)
            }
            if resumeNow { c.resume(returning: value) }
            if drained { onDrained() }
        }
    }
}
