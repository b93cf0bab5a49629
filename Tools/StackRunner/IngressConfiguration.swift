import BulkheadHTTP

/// Settings of the ingress: where it listens, where each upstream lives, and its limits.
public struct IngressConfiguration: Sendable {
    /// The largest request body the ingress accepts and forwards: 8 MiB. Larger bodies get
    /// 413 `body_too_large` from the server before they are read (or as soon as they pass it).
    /// Request bodies are buffered whole before forwarding; responses are streamed.
    public static let maxRequestBodyBytes = 8 * 1024 * 1024

    /// Address to bind: an IPv4 or IPv6 literal.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one (read it back from `Ingress.port`).
    public var port: Int = 8000
    /// Base URL (`http://127.0.0.1:8081`) of each upstream; one missing answers 502.
    public var upstreams: [IngressUpstream: String]
    public var routes: IngressRouteTable = .standard
    /// Body limit for proxied requests.
    public var maxBodyBytes: Int = IngressConfiguration.maxRequestBodyBytes
    /// Time an upstream gets to send its response head (504 beyond). The body, such as a
    /// token stream, then takes as long as it takes.
    public var upstreamTimeout: Duration = .seconds(120)
    /// Time to open a connection to an upstream (loopback, so short).
    public var connectTimeout: Duration = .seconds(3)
    /// Concurrent connections per upstream (each open SSE stream holds one).
    public var maxConnectionsPerUpstream: Int = 1024
    /// WebSocket connections relayed at once (each holds a client socket and an upstream
    /// socket); upgrades beyond it get 503 `too_many_websockets`.
    public var maxWebSockets: Int = 1024
    /// Largest WebSocket frame payload relayed, either way (larger: close 1009).
    public var webSocketMaxFrameBytes: Int = 1 << 20
    /// Largest WebSocket message relayed, either way, summed over its fragments (larger: close 1009).
    public var webSocketMaxMessageBytes: Int = 4 << 20
    /// Event loop threads of the ingress server.
    public var loopCount: Int = HTTPServerConfiguration.coreCount
    /// One log line per proxied request.
    public var accessLog: Bool = true

    /// Upstreams at their default places for a stack whose first service port is `basePort`.
    public static func upstreams(basePort: Int) -> [IngressUpstream: String] {
        [
            .auth: StackService.auth.url(basePort: basePort),
            .inferenceGateway: StackService.inferenceGateway.url(basePort: basePort),
            .apiCore: StackService.apiCore.url(basePort: basePort),
        ]
    }

    public init(upstreams: [IngressUpstream: String]) {
        self.upstreams = upstreams
    }
}
