/// A close status code (RFC 6455 §7.4), carried in close frames and in
/// ``WebSocketProtocolError``.
///
/// Any `UInt16` can be represented; ``isValidOnWire`` tells whether a peer may
/// send it in a close frame.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16

    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Creates a close code from its numeric value.
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection has been fulfilled.
    public static let normalClosure = WebSocketCloseCode(1000)
    /// 1001: the endpoint is going away (server shutdown, page navigation).
    public static let goingAway = WebSocketCloseCode(1001)
    /// 1002: the peer broke the protocol.
    public static let protocolError = WebSocketCloseCode(1002)
    /// 1003: the endpoint cannot accept this kind of data (e.g. binary when it only takes text).
    public static let unsupportedData = WebSocketCloseCode(1003)
    /// 1007: a message's data was inconsistent with its type (invalid UTF-8 in text).
    public static let invalidPayload = WebSocketCloseCode(1007)
    /// 1008: a message violated the endpoint's policy.
    public static let policyViolation = WebSocketCloseCode(1008)
    /// 1009: a frame or message is too big to process.
    public static let messageTooBig = WebSocketCloseCode(1009)
    /// 1011: the server met an unexpected condition.
    public static let internalError = WebSocketCloseCode(1011)

    /// Whether a peer may send this code in a close frame.
    ///
    /// Valid: 1000-1003, 1007-1014 (RFC 6455 and the IANA registry), and 3000-4999
    /// (registered and private use). Invalid: below 1000, 1004-1006 (reserved, or
    /// meant only for local reporting), 1015 (TLS failure, local only), 1016-2999
    /// (unassigned / reserved for extensions), and 5000 and above.
    public var isValidOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    public var description: String { String(rawValue) }
}
