import BulkheadCrypto

extension HTTPClient {
    /// Limits, timeouts and TLS settings of an `HTTPClient`.
    ///
    /// ```swift
    /// var config = HTTPClient.Configuration()
    /// config.connectTimeout = .seconds(2)
    /// config.requestTimeout = .seconds(30)
    /// config.maxConnectionsPerHost = 8
    /// let client = try HTTPClient(configuration: config)
    /// ```
    public struct Configuration: Sendable {
        /// Resolving the host, the TCP connect and (for https) the TLS handshake, together.
        public var connectTimeout: Duration = .seconds(5)
        /// Default total deadline of a request: waiting for a connection, sending, receiving
        /// the head and the whole body. nil: none. `execute(_:timeout:)` overrides it.
        public var requestTimeout: Duration? = .seconds(60)
        /// A pooled connection unused for this long is closed.
        public var idleTimeout: Duration = .seconds(60)
        /// Open connections (connecting, busy or idle) per scheme, host and port. Requests
        /// beyond it wait, first come first served.
        public var maxConnectionsPerHost: Int = 32
        /// Largest response head (status line and headers) accepted.
        public var maxResponseHeadBytes: Int = 64 * 1024
        /// Most header fields accepted in a response head.
        public var maxResponseHeaderCount: Int = 256
        /// What `HTTPClientResponseBody.collect()` accepts when no limit is given.
        public var maxCollectBytes: Int = 16 * 1024 * 1024
        /// Streaming backpressure: the socket is not read while more than this many body
        /// bytes wait unconsumed (reading resumes below half).
        public var responseBufferBytes: Int = 256 * 1024
        /// TLS settings for https; nil: the system trust store, TLS 1.2 or later.
        public var tlsContext: TLSClientContext?
        /// Sent as `User-Agent` unless the request has one; nil: none.
        public var userAgent: String? = "bulkhead-http-client/1.0"
        /// Name of the client's event loop thread.
        public var threadName: String = "http-client"

        public init() {}
    }
}

extension Duration {
    /// Whole nanoseconds, clamped to `0...UInt64.max`.
    var clientNanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let (s, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64.max }
        let (total, o2) = s.addingReportingOverflow(UInt64(max(0, attoseconds) / 1_000_000_000))
        return o2 ? UInt64.max : total
    }
}

/// "250 ms", "5 s", "1.5 s": for error messages.
func formatNanoseconds(_ nanos: UInt64) -> String {
    if nanos < 1_000_000_000 { return "\(nanos / 1_000_000) ms" }
    if nanos % 1_000_000_000 == 0 { return "\(nanos / 1_000_000_000) s" }
    let tenths = (nanos + 50_000_000) / 100_000_000
    return "\(tenths / 10).\(tenths % 10) s"
}
