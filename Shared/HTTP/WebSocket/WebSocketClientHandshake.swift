import BulkheadCrypto
/// The client side of the WebSocket opening handshake (RFC 6455 §4.1), for tests and
/// for the HTTP client.
///
/// Build the request with ``requestHeaders(host:)`` (or ``requestHead(target:host:)``),
/// send it, then check the server's answer with ``validateResponse(status:headers:)``.
/// After success, frames sent must be masked (``WebSocketFrameEncoder/randomMaskingKey()``)
/// and frames read parsed with `expectMasked: false`.
public struct WebSocketClientHandshake: Sendable {
    /// The `Sec-WebSocket-Key`: base64 of 16 bytes.
    public let key: String
    /// Subprotocols offered in `Sec-WebSocket-Protocol`, in preference order.
    public var subprotocols: [String]

    /// Creates a handshake with a fresh random key.
    public init(subprotocols: [String] = []) {
        var rng = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for _ in 0..<2 {
            let n = rng.next() as UInt64
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: n >> UInt64(shift))) }
        }
        self.init(key: Base64.encode(bytes), subprotocols: subprotocols)
    }

    /// Creates a handshake with a given key (tests).
    public init(key: String, subprotocols: [String] = []) {
        self.key = key
        self.subprotocols = subprotocols
    }

    /// The `Sec-WebSocket-Accept` value the server must answer with.
    public var expectedAccept: String { WebSocketHandshake.acceptValue(forKey: key) }

    /// The header fields of the upgrade request: `Host`, `Upgrade`, `Connection`,
    /// `Sec-WebSocket-Key`, `Sec-WebSocket-Version`, and `Sec-WebSocket-Protocol` if any
    /// subprotocols are offered.
    public func requestHeaders(host: String) -> HTTPHeaders {
        var headers: HTTPHeaders = [
            "Host": host,
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": key,
            "Sec-WebSocket-Version": WebSocketHandshake.version,
        ]
        if !subprotocols.isEmpty {
            headers.add(name: "Sec-WebSocket-Protocol", value: subprotocols.joined(separator: ", "))
        }
        return headers
    }

    /// The whole upgrade request head: `GET target HTTP/1.1` with ``requestHeaders(host:)``.
    public func requestHead(target: String, host: String) -> HTTPRequestHead {
        HTTPRequestHead(method: .get, target: target, version: .http1_1, headers: requestHeaders(host: host))
    }

    /// Checks the server's response: status 101, `Upgrade: websocket`,
    /// `Connection: upgrade`, the right `Sec-WebSocket-Accept`, no extension, and a
    /// subprotocol only if it was offered.
    /// - Returns: the subprotocol the server chose, or nil.
    public func validateResponse(status: HTTPStatus, headers: HTTPHeaders) -> Result<String?, WebSocketClientHandshakeError> {
        typealias Code = WebSocketClientHandshakeError.Code
        guard status.code == 101 else {
            return .failure(.init(code: Code.unexpectedStatus, message: "expected 101 Switching Protocols, got \(status)"))
        }
        guard headers.tokens("upgrade").contains("websocket") else {
            return .failure(.init(code: Code.missingUpgrade, message: "the Upgrade header must be websocket"))
        }
        guard headers.tokens("connection").contains("upgrade") else {
            return .failure(.init(code: Code.missingConnectionUpgrade, message: "the Connection header must contain upgrade"))
        }
        let accepts = headers.values("sec-websocket-accept")
        guard accepts.count == 1, let accept = accepts.first, accept[...].trimmingSpaces() == expectedAccept else {
            return .failure(.init(code: Code.badAccept, message: "Sec-WebSocket-Accept does not match the key"))
        }
        guard !headers.tokens("sec-websocket-extensions").contains(where: { !$0.isEmpty }) else {
            return .failure(.init(code: Code.unexpectedExtension, message: "the server enabled an extension that was not offered"))
        }
        let chosen = headers.values("sec-websocket-protocol").map { String($0[...].trimmingSpaces()) }
        if chosen.isEmpty { return .success(nil) }
        guard chosen.count == 1, let selected = chosen.first, subprotocols.contains(selected) else {
            return .failure(.init(code: Code.unexpectedSubprotocol, message: "the server chose a subprotocol that was not offered"))
        }
        return .success(selected)
    }
}
