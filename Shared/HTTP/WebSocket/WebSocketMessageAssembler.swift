/// Joins data frames into messages and decodes control frames (RFC 6455 §5.4-5.5).
///
/// Push every frame from ``WebSocketFrameParser`` in order; a non-nil result is an
/// event for the application (or, for ping and close, for the connection to answer).
///
/// Rules:
/// - a continuation frame with no message started: 1002;
/// - a text or binary frame while a fragmented message is in progress: 1002;
/// - control frames (ping, pong, close) may come between fragments; they must be
///   unfragmented with at most 125 bytes of payload (1002);
/// - a message whose fragments add up to more than `maxMessageSize`: 1009, as soon as
///   the fragment crossing the limit arrives;
/// - text must be valid UTF-8 (1007); a code point may be split across fragments. The
///   whole message is validated when complete, and fragments are also checked as they
///   arrive so that a hopeless message fails before it is fully received;
/// - a close payload is empty or a 2-byte code plus a UTF-8 reason: 1 byte is 1002,
///   a code that may not be sent on the wire (see ``WebSocketCloseCode/isValidOnWire``)
///   is 1002, an invalid UTF-8 reason is 1007.
///
/// After an error, close the connection; the assembler's state is not meant to be reused.
public struct WebSocketMessageAssembler: Sendable {
    /// The largest message accepted, in bytes, summed over its fragments.
    public let maxMessageSize: Int

    /// The opcode (text or binary) of the fragmented message in progress.
    private var messageOpcode: WebSocketOpcode?
    private var fragments: [UInt8] = []
    private var utf8 = WebSocketUTF8Validator()

    /// Creates an assembler.
    /// - Parameter maxMessageSize: the largest message, in bytes; larger ones fail with 1009.
    public init(maxMessageSize: Int) {
        self.maxMessageSize = max(0, maxMessageSize)
    }

    /// Whether a fragmented message has started and not finished.
    public var isAssemblingMessage: Bool { messageOpcode != nil }

    /// Bytes of the fragmented message in progress received so far.
    public var bufferedMessageSize: Int { fragments.count }

    /// Adds a frame; returns an event when one is complete, nil after a non-final fragment.
    /// - Throws: ``WebSocketProtocolError`` with close code 1002, 1007 or 1009.
    public mutating func push(_ frame: WebSocketFrame) throws(WebSocketProtocolError) -> WebSocketEvent? {
        switch frame.opcode {
        case .ping:
            try Self.checkControl(frame)
            return .ping(frame.payload)
        case .pong:
            try Self.checkControl(frame)
            return .pong(frame.payload)
        case .close:
            try Self.checkControl(frame)
            return try Self.closeEvent(payload: frame.payload)

        case .text, .binary:
            if messageOpcode != nil {
                throw .protocolViolation("new data frame while a fragmented message is in progress")
            }
            if frame.payload.count > maxMessageSize {
                throw .tooBig("message larger than the limit of \(maxMessageSize) bytes")
            }
            if frame.fin {
                return try Self.message(opcode: frame.opcode, bytes: frame.payload)
            }
            if frame.opcode == .text {
                utf8 = WebSocketUTF8Validator()
                guard utf8.feed(frame.payload) else { throw .invalidPayload("invalid UTF-8 in text message") }
            }
            messageOpcode = frame.opcode
            fragments = frame.payload
            return nil

        case .continuation:
            guard let opcode = messageOpcode else {
                throw .protocolViolation("continuation frame without a message in progress")
            }
            if frame.payload.count > maxMessageSize &- fragments.count {
                throw .tooBig("message larger than the limit of \(maxMessageSize) bytes")
            }
            if opcode == .text {
                guard utf8.feed(frame.payload) else { throw .invalidPayload("invalid UTF-8 in text message") }
            }
            fragments.append(contentsOf: frame.payload)
            guard frame.fin else { return nil }
            var bytes: [UInt8] = []
            swap(&bytes, &fragments)
            messageOpcode = nil
            return try Self.message(opcode: opcode, bytes: bytes)
        }
    }

    // MARK: - Helpers

    private static func checkControl(_ frame: WebSocketFrame) throws(WebSocketProtocolError) {
        if !frame.fin { throw .protocolViolation("fragmented control frame") }
        if frame.payload.count > 125 { throw .protocolViolation("control frame payload longer than 125 bytes") }
    }

    /// A complete message; text is validated as UTF-8 as a whole.
    private static func message(opcode: WebSocketOpcode, bytes: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        guard opcode == .text else { return .binary(bytes) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidPayload("invalid UTF-8 in text message")
        }
        return .text(text)
    }

    /// Decodes a close frame's payload (RFC 6455 §5.5.1).
    static func closeEvent(payload: [UInt8]) throws(WebSocketProtocolError) -> WebSocketEvent {
        if payload.isEmpty { return .close(code: nil, reason: "") }
        guard payload.count >= 2 else { throw .protocolViolation("close frame payload of 1 byte") }
        let code = WebSocketCloseCode(UInt16(payload[0]) << 8 | UInt16(payload[1]))
        guard code.isValidOnWire else { throw .protocolViolation("invalid close code \(code.rawValue)") }
        guard let reason = String(validating: payload[2...], as: UTF8.self) else {
            throw .invalidPayload("invalid UTF-8 in close reason")
        }
        return .close(code: code, reason: reason)
    }
}
