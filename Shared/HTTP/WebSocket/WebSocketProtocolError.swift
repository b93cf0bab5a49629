/// A violation of RFC 6455 by the peer, found by ``WebSocketFrameParser`` or
/// ``WebSocketMessageAssembler``.
///
/// The connection should answer with a close frame carrying ``closeCode``
/// (and, optionally, ``message`` as the reason) and then close.
public struct WebSocketProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The close code to send: 1002 (protocol error), 1007 (invalid payload) or 1009 (too big).
    public var closeCode: WebSocketCloseCode
    /// A short human-readable explanation, ASCII, under 123 bytes so it fits a close frame's reason.
    public var message: String

    /// Creates an error.
    public init(closeCode: WebSocketCloseCode, message: String) {
        self.closeCode = closeCode
        self.message = message
    }

    static func protocolViolation(_ message: String) -> WebSocketProtocolError {
        WebSocketProtocolError(closeCode: .protocolError, message: message)
    }
    static func tooBig(_ message: String) -> WebSocketProtocolError {
        WebSocketProtocolError(closeCode: .messageTooBig, message: message)
    }
    static func invalidPayload(_ message: String) -> WebSocketProtocolError {
        WebSocketProtocolError(closeCode: .invalidPayload, message: message)
    }

    public var description: String { "WebSocket protocol error \(closeCode.rawValue): \(message)" }
}
