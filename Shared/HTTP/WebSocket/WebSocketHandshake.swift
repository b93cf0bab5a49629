import BulkheadCrypto

/// The server side of the WebSocket opening handshake (RFC 6455 §4.2).
///
/// Typical use: `validate` the request; on success answer
/// `101 Switching Protocols` with ``responseHeaders(forKey:subprotocol:)``; on failure
/// answer with the error's status, headers and message.
public enum WebSocketHandshake {
    /// The GUID appended to the client's key before hashing (RFC 6455 §1.3).
    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    /// The only protocol version supported.
    public static let version = "13"

    /// Checks that a request is a valid WebSocket upgrade and returns its
    /// `Sec-WebSocket-Key` (trimmed).
    ///
    /// Checks, in order: method GET (405, with `Allow: GET`); HTTP/1.1 or later (400);
    /// an `Upgrade` token `websocket`, case-insensitive (426, with `Upgrade: websocket`;
    /// the response should also carry `Connection: Upgrade`); a `Connection` token
    /// `upgrade` (400); `Sec-WebSocket-Version: 13` (426, with
    /// `Sec-WebSocket-Version: 13`); exactly one `Sec-WebSocket-Key` that is the padded
    /// base64 of 16 bytes (400).
    public static func validate(_ head: HTTPRequestHead) -> Result<String, WebSocketHandshakeError> {
        typealias Code = WebSocketHandshakeError.Code
        guard head.method == .get else {
            return .failure(WebSocketHandshakeError(
                status: .methodNotAllowed, code: Code.methodNotAllowed,
                message: "a WebSocket handshake must use GET", headers: ["Allow": "GET"]))
        }
        guard head.version.major > 1 || (head.version.major == 1 && head.version.minor >= 1) else {
            return .failure(WebSocketHandshakeError(
                status: .badRequest, code: Code.unsupportedHTTPVersion,
                message: "a WebSocket handshake requires HTTP/1.1"))
        }
        guard head.headers.tokens("upgrade").contains("websocket") else {
            return .failure(WebSocketHandshakeError(
                status: HTTPStatus(code: 426), code: Code.upgradeRequired,
                message: "this resource requires a WebSocket upgrade", headers: ["Upgrade": "websocket"]))
        }
        guard head.headers.tokens("connection").contains("upgrade") else {
            return .failure(WebSocketHandshakeError(
                status: .badRequest, code: Code.connectionUpgradeMissing,
                message: "the Connection header must contain the upgrade token"))
        }
        guard head.headers.tokens("sec-websocket-version") == [version] else {
            return .failure(WebSocketHandshakeError(
                status: HTTPStatus(code: 426), code: Code.unsupportedVersion,
                message: "only WebSocket version 13 is supported",
                headers: ["Sec-WebSocket-Version": version]))
        }
        let keys = head.headers.values("sec-websocket-key")
        guard keys.count == 1, let rawKey = keys.first else {
            return .failure(WebSocketHandshakeError(
                status: .badRequest, code: Code.keyMissing,
                message: keys.isEmpty ? "missing Sec-WebSocket-Key" : "more than one Sec-WebSocket-Key"))
        }
        let key = String(rawKey[...].trimmingSpaces())
        guard let decoded = Base64.decode(key), decoded.count == 16 else {
            return .failure(WebSocketHandshakeError(
                status: .badRequest, code: Code.keyInvalid,
                message: "Sec-WebSocket-Key must be the base64 encoding of 16 bytes"))
        }
        return .success(key)
    }

    /// The `Sec-WebSocket-Accept` value for a key: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.hash(key + guid))
    }

    /// The subprotocols the client offers in `Sec-WebSocket-Protocol`, in order,
    /// with their original case (subprotocol names are case-sensitive).
    public static func requestedSubprotocols(_ head: HTTPRequestHead) -> [String] {
        head.headers.values("sec-websocket-protocol")
            .flatMap { $0.split(separator: ",") }
            .map { String($0.trimmingSpaces()) }
            .filter { !$0.isEmpty }
    }

    /// The header fields of the 101 response: `Upgrade: websocket`, `Connection: Upgrade`,
    /// `Sec-WebSocket-Accept`, and `Sec-WebSocket-Protocol` when one was chosen (it must be
    /// one of ``requestedSubprotocols(_:)``). No extension is ever accepted.
    public static func responseHeaders(forKey key: String, subprotocol: String? = nil) -> HTTPHeaders {
        var headers: HTTPHeaders = [
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Accept": acceptValue(forKey: key),
        ]
        if let subprotocol { headers.add(name: "Sec-WebSocket-Protocol", value: subprotocol) }
        return headers
    }
}
