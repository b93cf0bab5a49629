import BulkheadHTTP

/// Why a WebSocket client connection could not be opened, or ended badly.
///
/// `kind` is stable and meant for `switch`; `message` is for people and logs. When the
/// server refused the upgrade with an ordinary HTTP answer (`kind == .handshakeRefused`),
/// `status`, `headers` and `body` hold that answer, so a proxy can pass it on unchanged.
///
/// ```swift
/// do {
///     let ws = try await WebSocketClient.connect(url: "ws://127.0.0.1:8080/v1/stream", headers: ["Authorization": "Bearer x"])
///     ...
/// } catch let error as WebSocketClientError where error.kind == .handshakeRefused {
///     print(error.status?.code ?? 0)  // 401
/// }
/// ```
public struct WebSocketClientError: Error, Sendable, CustomStringConvertible {
    /// The category of failure.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The URL could not be parsed, or its scheme is not `ws`/`wss`.
        case invalidURL
        /// A header value is unusable (e.g. contains CR or LF).
        case invalidRequest
        /// The host could not be resolved or the TCP connection was refused.
        case connectFailed
        /// Connecting and the opening handshake took longer than the timeout.
        case timeout
        /// The TLS handshake failed (`wss://`).
        case tlsFailed
        /// The server answered the upgrade with a non-101 HTTP response (see `status`, `body`).
        case handshakeRefused
        /// The server's answer is not a valid HTTP response or not a valid 101 for our key.
        case handshakeFailed
        /// The server broke RFC 6455 (or sent a message over the limits); `closeCode` says which.
        case protocolError
        /// The connection dropped without a closing handshake.
        case connectionClosed
        /// The calling task was cancelled, or the connection was aborted locally.
        case cancelled
    }

    public var kind: Kind
    public var message: String
    /// The HTTP status of a refused handshake.
    public var status: HTTPStatus?
    /// The headers of a refused handshake's response.
    public var headers: HTTPHeaders
    /// The body of a refused handshake's response (at most `Configuration.maxRefusalBodyBytes`).
    public var body: [UInt8]
    /// For `.protocolError`: the close code sent to the server (1002, 1007 or 1009).
    public var closeCode: WebSocketCloseCode?

    public init(
        _ kind: Kind, _ message: String, status: HTTPStatus? = nil, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        closeCode: WebSocketCloseCode? = nil
    ) {
        self.kind = kind
        self.message = message
        self.status = status
        self.headers = headers
        self.body = body
        self.closeCode = closeCode
    }

    /// The equivalent for a failure of the HTTP layer below (URL, connect, TLS).
    init(_ error: HTTPClientError) {
        switch error.kind {
        case .invalidURL: self.init(.invalidURL, error.message)
        case .invalidRequest: self.init(.invalidRequest, error.message)
        case .connectFailed: self.init(.connectFailed, error.message)
        case .connectTimeout, .timeout: self.init(.timeout, error.message)
        case .tlsFailed: self.init(.tlsFailed, error.message)
        case .malformedResponse, .responseTooLarge: self.init(.handshakeFailed, error.message)
        case .connectionClosed: self.init(.connectionClosed, error.message)
        case .cancelled, .shutdown: self.init(.cancelled, error.message)
        }
    }

    public var description: String {
        var text = "WebSocketClientError.\(kind.rawValue): \(message)"
        if let status { text += " (HTTP \(status.code))" }
        if let closeCode { text += " (close \(closeCode.rawValue))" }
        return text
    }
}
