import BulkheadHTTP

/// A request for `HTTPClient.execute`: method, absolute URL, headers and body bytes.
///
/// The client adds `Host` (unless set), `User-Agent` (unless set, from the configuration),
/// `Content-Length` computed from `body` (sent for a non-empty body, and as 0 for POST, PUT
/// and PATCH; a caller's `Content-Length` or `Transfer-Encoding` is replaced) and
/// `traceparent` when `traceparent` is set. The URL is parsed when the request is executed;
/// a bad URL fails with `HTTPClientError.Kind.invalidURL`.
///
/// ```swift
/// var request = HTTPClientRequest(method: .post, url: "http://queue-broker:8080/v1/jobs")
/// request.headers.add(name: "Content-Type", value: "application/json")
/// request.body = Array(#"{"kind":"embed"}"#.utf8)
/// request.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
/// let response = try await client.execute(request)
/// ```
public struct HTTPClientRequest: Sendable {
    public var method: HTTPMethod
    /// `http://` or `https://` URL, e.g. `https://api.anthropic.com/v1/messages?beta=true`.
    public var url: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// W3C trace context to propagate; becomes the `traceparent` header (replacing one set in `headers`).
    public var traceparent: String?

    public init(
        method: HTTPMethod = .get, url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
        traceparent: String? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.traceparent = traceparent
    }

    /// Whether repeating the request is harmless (RFC 9110 §9.2.2), so it may be retried
    /// after a reused connection turned out to be closed.
    public var isIdempotent: Bool {
        switch method {
        case .get, .head, .put, .delete, .options, HTTPMethod("TRACE"): true
        default: false
        }
    }
}
