/// Why an HTTP client call failed.
///
/// `kind` is stable and meant for `switch`/comparisons; `message` is for people and logs
/// (it names the host, the limit or the system error involved).
///
/// ```swift
/// do {
///     let response = try await client.get("http://inference:8080/health")
///     _ = try await response.body.collect(upTo: 1 << 20)
/// } catch let error as HTTPClientError where error.kind == .timeout {
///     // retry later
/// }
/// ```
public struct HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The category of failure.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The URL could not be parsed, or its scheme is not `http`/`https`.
        case invalidURL
        /// The request itself is unusable (e.g. a header value containing CR or LF).
        case invalidRequest
        /// The host could not be resolved or the TCP connection was refused/unreachable.
        case connectFailed
        /// Resolving, connecting and (for https) the TLS handshake took longer than the connect timeout.
        case connectTimeout
        /// The request's total deadline passed (waiting for a connection, sending, or receiving).
        case timeout
        /// The TLS handshake failed: untrusted certificate, hostname mismatch, protocol error.
        case tlsFailed
        /// The server closed the connection (or it was reset) before the response was complete.
        case connectionClosed
        /// The response head or the collected body exceeded a configured limit.
        case responseTooLarge
        /// The server sent something that is not valid HTTP/1.1.
        case malformedResponse
        /// The calling task was cancelled, or the body consumer gave up.
        case cancelled
        /// The client was shut down.
        case shutdown
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "HTTPClientError.\(kind.rawValue): \(message)" }

    static func invalidURL(_ message: String) -> HTTPClientError { HTTPClientError(.invalidURL, message) }
}
