import BulkheadHTTP

/// A WebSocket client for tests over `RawConnection`: masks its frames as a browser would and
/// lets tests send arbitrary (also invalid) frames.
public final class TestWebSocketClient: @unchecked Sendable {
    // Safe because: a test drives one client from one task at a time.
    public let connection: RawConnection
    private var parser = WebSocketFrameParser(maxFrameSize: 16 << 20, expectMasked: false)

    /// Connects and completes the upgrade handshake on `path`; throws if the server refuses.
    public init(port: Int, path: String) throws {
        connection = try RawConnection(port: port)
        let handshake = WebSocketClientHandshake()
        var request = "GET \(path) HTTP/1.1\r\n"
        for field in handshake.requestHeaders(host: "127.0.0.1:\(port)") { request += "\(field.name): \(field.value)\r\n" }
        request += "\r\n"
        try connection.send(request)
        let response = try connection.readResponse()
        guard response.status == 101 else { throw TestError("upgrade refused with \(response.status): \(response.text)") }
        if case .failure(let error) = handshake.validateResponse(status: response.head.status, headers: response.head.headers) {
            throw TestError("bad handshake answer: \(error)")
        }
        parser.append(connection.takeBufferedBytes())
    }

    /// Sends one masked frame.
    public func send(opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true) throws {
        try connection.send(
            WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, fin: fin, maskingKey: WebSocketFrameEncoder.randomMaskingKey()))
    }

    public func send(text: String) throws { try send(opcode: .text, payload: Array(text.utf8)) }

    /// The next frame from the server, or nil if the connection closed first.
    public func receiveFrame(timeout: Duration = .seconds(5)) throws -> WebSocketFrame? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let frame = try parser.next() { return frame }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { throw TestError("timed out waiting for a frame") }
            guard let bytes = try connection.receive(timeout: min(remaining, .milliseconds(100))) else { return nil }
            parser.append(bytes)
        }
    }

    /// The close code in a close frame's payload.
    public static func closeCode(_ frame: WebSocketFrame) -> UInt16? {
        guard frame.opcode == .close, frame.payload.count >= 2 else { return nil }
        return UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1])
    }
}
