/// A complete message or control event, produced by ``WebSocketMessageAssembler``.
public enum WebSocketEvent: Sendable, Equatable {
    /// A whole text message (all fragments joined, validated as UTF-8).
    case text(String)
    /// A whole binary message (all fragments joined).
    case binary([UInt8])
    /// A ping; answer with a pong carrying the same bytes.
    case ping([UInt8])
    /// A pong.
    case pong([UInt8])
    /// The peer started the closing handshake. `code` is nil when the close frame
    /// had no payload (then `reason` is empty); otherwise it is a valid wire code.
    case close(code: WebSocketCloseCode?, reason: String)
}
