/// Why a request is not an acceptable WebSocket opening handshake, with the HTTP
/// response to send instead of 101.
public struct WebSocketHandshakeError: Error, Sendable, CustomStringConvertible {
    /// The response status: 400, 405 or 426.
    public var status: HTTPStatus
    /// A stable machine-readable code, one of the `WebSocketHandshakeError.Code` constants.
    public var code: String
    /// A human-readable explanation.
    public var message: String
    /// Header fields the response must carry (`Allow` with 405; `Upgrade` or
    /// `Sec-WebSocket-Version` with 426).
    public var headers: HTTPHeaders

    /// Creates an error.
    public init(status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The values of ``code``.
    public enum Code {
        /// 405: the method is not GET.
        public static let methodNotAllowed = "websocket_method_not_allowed"
        /// 400: HTTP/1.0 or older.
        public static let unsupportedHTTPVersion = "websocket_http_version"
        /// 426: no `websocket` token in `Upgrade`.
        public static let upgradeRequired = "websocket_upgrade_required"
        /// 400: no `upgrade` token in `Connection`.
        public static let connectionUpgradeMissing = "websocket_connection_upgrade_missing"
        /// 426: `Sec-WebSocket-Version` is missing or not 13.
        public static let unsupportedVersion = "websocket_version_unsupported"
        /// 400: `Sec-WebSocket-Key` is missing or repeated.
        public static let keyMissing = "websocket_key_missing"
        /// 400: `Sec-WebSocket-Key` is not the base64 of 16 bytes.
        public static let keyInvalid = "websocket_key_invalid"
    }

    public var description: String { "\(status.code) \(code): \(message)" }
}
