import BulkheadHTTP

/// A response whose head has arrived; its body streams in `body`.
///
/// ```swift
/// let response = try await client.get("http://cache:8080/v1/items/42")
/// guard response.status == .ok else { throw MyError.upstream(response.status) }
/// let bytes = try await response.body.collect(upTo: 1 << 20)
/// ```
///
/// Read the body to the end (or drop the response): a pooled connection is only reused
/// once its response body has been fully received, and dropping a response whose body is
/// still arriving closes the connection.
public struct HTTPClientResponse: Sendable {
    public var status: HTTPStatus
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// The body as an `AsyncSequence` of byte chunks, delivered as they arrive.
    public var body: HTTPClientResponseBody

    public init(status: HTTPStatus, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(), body: HTTPClientResponseBody) {
        self.status = status
        self.version = version
        self.headers = headers
        self.body = body
    }
}
