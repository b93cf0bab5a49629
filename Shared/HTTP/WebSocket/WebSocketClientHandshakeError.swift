/// Why a server's answer to a WebSocket upgrade request is not acceptable.
public struct WebSocketClientHandshakeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A stable machine-readable code, one of the `WebSocketClientHandshakeError.Code` constants.
    public var code: String
    /// A human-readable explanation.
    public var message: String

    /// Creates an error.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The values of ``code``.
    public enum Code {
        /// The status is not 101.
        public static let unexpectedStatus = "websocket_unexpected_status"
        /// `Upgrade` lacks `websocket`.
        public static let missingUpgrade = "websocket_missing_upgrade"
        /// `Connection` lacks `upgrade`.
        public static let missingConnectionUpgrade = "websocket_missing_connection_upgrade"
        /// `Sec-WebSocket-Accept` is missing or does not match the key.
        public static let badAccept = "websocket_bad_accept"
        /// The server chose a subprotocol that was not offered.
        public static let unexpectedSubprotocol = "websocket_unexpected_subprotocol"
        /// The server enabled an extension that was not offered.
        public static let unexpectedExtension = "websocket_unexpected_extension"
    }

    public var description: String { "\(code): \(message)" }
}
