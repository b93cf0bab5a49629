/// The status line and header section of a response, as parsed by `HTTPResponseParser`.
public struct HTTPResponseHead: Sendable {
    /// The status code with the reason phrase as sent (possibly empty).
    public var status: HTTPStatus
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(status: HTTPStatus, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.version = version
        self.headers = headers
    }

    /// A 1xx interim response: a final response for the same request follows.
    public var isInformational: Bool { status.code >= 100 && status.code < 200 }

    /// Whether the server keeps the connection open after this response (RFC 9112 §9.3).
    public var keepAlive: Bool {
        let connection = headers.tokens("connection")
        if connection.contains("close") { return false }
        if version.major == 1 && version.minor == 0 { return connection.contains("keep-alive") }
        return version.major >= 1
    }
}

/// How the body of a response is delimited (RFC 9112 §6.3).
public enum HTTPResponseFraming: Sendable, Equatable {
    /// No body: response to HEAD, 1xx, 204, 304.
    case none
    /// Exactly this many bytes (`Content-Length`).
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
    /// The body ends when the server closes the connection: call `HTTPResponseParser.finish()` at EOF.
    case untilClose
}

/// What `HTTPResponseParser.next()` produces, in order: one `head`, zero or more `body`
/// pieces (never empty), then one `end`. Interim (1xx) responses are `head` + `end` too.
public enum HTTPResponseParseEvent: Sendable {
    case head(HTTPResponseHead, HTTPResponseFraming)
    case body([UInt8])
    case end(trailers: HTTPHeaders)
}
