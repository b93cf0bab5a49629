/// Limits and timeouts of one HTTP server. Every limit is explicit and has a default.
public struct HTTPServerConfiguration: Sendable {
    /// Address to bind: an IPv4 or IPv6 literal.
    public var host: String = "127.0.0.1"
    /// Port to bind; 0 picks a free one (read it back from `HTTPServer.port`).
    public var port: Int = 8080
    /// Event loop threads; default one per core.
    public var loopCount: Int = HTTPServerConfiguration.coreCount
    public var backlog: Int = 1024
    /// Open connections above this get a 503 and are closed at once.
    public var maxConnections: Int = 10_000
    /// Request line plus header section (431 beyond).
    public var maxHeaderBytes: Int = 16 * 1024
    public var maxHeaderCount: Int = 100
    /// Body limit for routes that do not set their own (413 beyond).
    public var defaultMaxBodyBytes: Int = 1 << 20
    /// Time allowed from a request's first byte to the end of its header section (408 beyond).
    public var headerTimeout: Duration = .seconds(10)
    /// Time allowed to receive a whole body once the head is in (408 beyond).
    public var bodyTimeout: Duration = .seconds(30)
    /// Idle keep-alive connections are closed after this.
    public var idleTimeout: Duration = .seconds(60)
    /// A response whose client reads nothing for this long is abandoned.
    public var writeTimeout: Duration = .seconds(30)
    /// Bytes queued for a slow reader before a streamed body's writer waits (backpressure).
    public var writeHighWatermark: Int = 256 * 1024
    /// Pipelined bytes buffered while a response is in progress before reading pauses.
    public var maxPipelinedBytes: Int = 1 << 20
    /// Adds `Date` and `Server` headers like nginx does.
    public var serverName: String? = "bulkhead"

    public init() {}

    public static var coreCount: Int {
        #if canImport(Glibc)
        let n = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        return n > 0 ? Int(n) : 1
        #else
        return 1
        #endif
    }
}

#if canImport(Glibc)
import Glibc
#endif
