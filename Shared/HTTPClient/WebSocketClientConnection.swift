import BulkheadHTTP

/// An open WebSocket client connection, made by `WebSocketClient.connect`.
///
/// Send with `send(text:)`/`send(binary:)` (each waits while too much is unsent:
/// backpressure); read whole messages with `receive()` (nil once the server closed; the
/// code is then in `closeCode`), or iterate `messages`. `close(code:reason:)` runs the
/// closing handshake. Pings are answered for you. Call `receive()` from one task at a time.
///
/// Dropping the last reference closes the socket without a closing handshake.
public final class WebSocketClientConnection: Sendable {
    let channel: WebSocketClientChannel
    /// The URL connected to.
    public let url: String
    /// The subprotocol the server chose, if any.
    public let subprotocol: String?
    /// The headers of the server's 101 answer.
    public let responseHeaders: HTTPHeaders

    init(channel: WebSocketClientChannel, url: String, opened: WebSocketClientChannel.Opened) {
        self.channel = channel
        self.url = url
        subprotocol = opened.subprotocol
        responseHeaders = opened.headers
    }

    deinit {
        let channel = self.channel
        channel.loop.execute { channel.abort(WebSocketClientError(.cancelled, "the connection was released")) }
    }

    private var loop: EventLoop { channel.loop }

    // MARK: Sending

    public func send(text: String) async throws { try await send(opcode: .text, payload: Array(text.utf8)) }

    public func send(binary: [UInt8]) async throws { try await send(opcode: .binary, payload: binary) }

    public func send(_ message: WebSocketMessage) async throws {
        switch message {
        case .text(let text): try await send(text: text)
        case .binary(let bytes): try await send(binary: bytes)
        }
    }

    /// Sends one unfragmented, masked data frame; returns once it is queued below the write
    /// watermark. Throws `WebSocketClientError` once the connection is closed or closing;
    /// cancelling the calling task aborts the connection.
    private func send(opcode: WebSocketOpcode, payload: [UInt8]) async throws {
        let channel = self.channel
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                channel.loop.execute { channel.send(opcode: opcode, payload: payload, continuation: c) }
            }
        } onCancel: {
            channel.loop.execute { channel.abort(WebSocketClientError(.cancelled, "a send was cancelled")) }
        }
    }

    // MARK: Receiving

    /// The next whole message. nil once the closing handshake happened (see `closeCode`).
    /// Throws `WebSocketClientError`: `.protocolError` (with the close code sent, e.g. 1009 for
    /// a message over the limit), `.connectionClosed` when the connection dropped without a
    /// close frame. Cancelling the calling task aborts the connection.
    public func receive() async throws -> WebSocketMessage? {
        let channel = self.channel
        return try await withTaskCancellationHandler {
            try await channel.inbox.next()
        } onCancel: {
            channel.loop.execute { channel.abort(WebSocketClientError(.cancelled, "receive() was cancelled")) }
        }
    }

    /// The messages as an async sequence (ends when the server closes, throws like `receive()`).
    public var messages: WebSocketClientMessages { WebSocketClientMessages(connection: self) }

    /// The close code the server sent, once it did (nil for an empty close frame or none).
    public var closeCode: WebSocketCloseCode? {
        if case .closed(let code, _) = channel.inbox.ending { return code }
        return nil
    }

    /// The close reason the server sent, once it did.
    public var closeReason: String? {
        if case .closed(_, let reason) = channel.inbox.ending { return reason }
        return nil
    }

    // MARK: Closing

    /// Sends a close frame (once; nil `code`: an empty one) and returns when the socket is
    /// closed: the server answered, or `Configuration.closeTimeout` passed. Messages still
    /// in flight from the server are dropped; those already received can still be read.
    public func close(code: WebSocketCloseCode? = .normalClosure, reason: String = "") async {
        let channel = self.channel
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            channel.loop.execute { channel.close(code: code, reason: reason, done: c) }
        }
    }

    /// Closes the socket at once, without a closing handshake; `receive()` then throws `.cancelled`.
    public func abort() {
        let channel = self.channel
        channel.loop.execute { channel.abort(WebSocketClientError(.cancelled, "the connection was aborted")) }
    }
}

/// The messages of a `WebSocketClientConnection`, in order.
public struct WebSocketClientMessages: AsyncSequence, Sendable {
    public typealias Element = WebSocketMessage
    let connection: WebSocketClientConnection

    public struct AsyncIterator: AsyncIteratorProtocol {
        let connection: WebSocketClientConnection
        public mutating func next() async throws -> WebSocketMessage? { try await connection.receive() }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(connection: connection) }
}
