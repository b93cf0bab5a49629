/// One WebSocket frame as it travels on the wire (RFC 6455 §5.2), already unmasked.
///
/// The frame parser produces these; the message assembler turns them into
/// ``WebSocketEvent``s. Masking is a transport detail: a parsed frame holds the
/// plain payload, and ``WebSocketFrameEncoder`` applies a mask when asked to.
public struct WebSocketFrame: Sendable, Hashable, CustomStringConvertible {
    /// Whether this is the final fragment of a message (always true for control frames).
    public var fin: Bool
    /// Reserved bit 1 (used by extensions such as permessage-deflate; none are negotiated here).
    public var rsv1: Bool
    /// Reserved bit 2.
    public var rsv2: Bool
    /// Reserved bit 3.
    public var rsv3: Bool
    /// What the frame carries.
    public var opcode: WebSocketOpcode
    /// The application data, unmasked.
    public var payload: [UInt8]

    /// Creates a frame.
    public init(
        fin: Bool = true, rsv1: Bool = false, rsv2: Bool = false, rsv3: Bool = false,
        opcode: WebSocketOpcode, payload: [UInt8] = []
    ) {
        self.fin = fin
        self.rsv1 = rsv1
        self.rsv2 = rsv2
        self.rsv3 = rsv3
        self.opcode = opcode
        self.payload = payload
    }

    /// Whether any reserved bit is set.
    public var hasReservedBits: Bool { rsv1 || rsv2 || rsv3 }

    public var description: String {
        var flags = fin ? "FIN" : "-"
        if rsv1 { flags += ",RSV1" }
        if rsv2 { flags += ",RSV2" }
        if rsv3 { flags += ",RSV3" }
        return "WebSocketFrame(\(opcode), \(flags), \(payload.count) bytes)"
    }
}
