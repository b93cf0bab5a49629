/// The 4-bit opcode of a WebSocket frame (RFC 6455 §5.2).
///
/// Only the six opcodes RFC 6455 defines exist; the reserved values
/// (0x3-0x7 and 0xB-0xF) have no case, so `init(rawValue:)` returns nil for them
/// and the frame parser rejects them with close code 1002.
public enum WebSocketOpcode: UInt8, Sendable, Hashable, CustomStringConvertible {
    /// A continuation fragment of a fragmented text or binary message.
    case continuation = 0x0
    /// The first (or only) frame of a UTF-8 text message.
    case text = 0x1
    /// The first (or only) frame of a binary message.
    case binary = 0x2
    /// A close frame: empty, or a 2-byte close code followed by a UTF-8 reason.
    case close = 0x8
    /// A ping; the peer answers with a pong carrying the same payload.
    case ping = 0x9
    /// A pong, in answer to a ping or unsolicited as a heartbeat.
    case pong = 0xA

    /// Whether this is a control opcode (close, ping, pong): at most 125 bytes of
    /// payload, never fragmented, and allowed between the fragments of a message.
    @inlinable
    public var isControl: Bool { rawValue & 0x8 != 0 }

    /// Whether this opcode carries message data (continuation, text, binary).
    @inlinable
    public var isData: Bool { !isControl }

    public var description: String {
        switch self {
        case .continuation: "continuation"
        case .text: "text"
        case .binary: "binary"
        case .close: "close"
        case .ping: "ping"
        case .pong: "pong"
        }
    }
}
