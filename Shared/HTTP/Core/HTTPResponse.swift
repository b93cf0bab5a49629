/// A response: status, headers and one of several body kinds.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: HTTPResponseBody

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: HTTPResponseBody = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A buffered response with a content type.
    public init(status: HTTPStatus = .ok, contentType: String, body: [UInt8], headers: HTTPHeaders = HTTPHeaders()) {
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: contentType)
        self.init(status: status, headers: h, body: .bytes(body))
    }

    /// `text/plain; charset=utf-8`.
    public static func text(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array(text.utf8))
    }

    /// `application/json` from bytes already encoded.
    public static func json(bytes: [UInt8], status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        HTTPResponse(status: status, contentType: "application/json", body: bytes, headers: headers)
    }

    /// A streamed body written by `producer` as it goes (chunked on HTTP/1.1).
    public static func stream(
        status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(),
        _ producer: @escaping @Sendable (HTTPBodyWriter) async throws -> Void
    ) -> HTTPResponse {
        HTTPResponse(status: status, headers: headers, body: .stream(producer))
    }
}

/// How a response body is produced.
public enum HTTPResponseBody: Sendable {
    case empty
    case bytes([UInt8])
    /// Written incrementally with backpressure; the connection ends the body when the closure returns.
    case stream(@Sendable (HTTPBodyWriter) async throws -> Void)
    /// Switches the connection to WebSocket after a 101 answer; the session ends when the closure returns.
    case webSocket(WebSocketOptions, @Sendable (WebSocketSession) async throws -> Void)
}

/// Per-upgrade WebSocket limits.
public struct WebSocketOptions: Sendable {
    public var maxFrameSize: Int
    public var maxMessageSize: Int
    /// Interval between server pings; nil disables them.
    public var pingInterval: Duration?
    public init(maxFrameSize: Int = 1 << 20, maxMessageSize: Int = 4 << 20, pingInterval: Duration? = .seconds(30)) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
        self.pingInterval = pingInterval
    }
}
