import BulkheadHTTP
import BulkheadObservability

/// Settings every Bulkhead service reads from its environment, with defaults.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `HOST` | `127.0.0.1` | address to bind |
/// | `PORT` | the service's port (8080–8086) | port to bind; 0 picks one |
/// | `DATA_DIR` | `./.data/<service>` | where state lives |
/// | `BULKHEAD_INTERNAL_TOKEN` | none | credential guarding `/internal/` routes (secret) |
/// | `LOG_LEVEL` | `info` | debug, info, warning, error |
/// | `ACCESS_LOG` | `true` | one log line per request |
/// | `LOOP_THREADS` | cores | event loop threads |
/// | `MAX_CONNECTIONS` | 10000 | connections above this get 503 |
/// | `MAX_BODY_BYTES` | 1048576 | default body limit |
/// | `HEADER_TIMEOUT`, `BODY_TIMEOUT`, `IDLE_TIMEOUT` | 10s, 30s, 60s | connection timeouts |
/// | `SHUTDOWN_GRACE` | 10s | time in-flight requests get on SIGTERM |
public struct ServiceConfiguration: Sendable {
    public var name: String
    public var http: HTTPServerConfiguration
    public var dataDirectory: String
    public var internalToken: String
    public var logLevel: LogLevel
    public var accessLog: Bool
    public var shutdownGrace: Duration

    /// Reads the common settings; problems are collected into `environment`'s error list.
    public init(name: String, defaultPort: Int, environment env: Environment) {
        self.name = name
        var http = HTTPServerConfiguration()
        http.host = env.string("HOST", default: "127.0.0.1")
        http.port = env.int("PORT", default: defaultPort, range: 0...65535)
        http.loopCount = env.int("LOOP_THREADS", default: HTTPServerConfiguration.coreCount, range: 1...256)
        http.maxConnections = env.int("MAX_CONNECTIONS", default: 10_000, range: 1...1_000_000)
        http.defaultMaxBodyBytes = env.int("MAX_BODY_BYTES", default: 1 << 20, range: 1...(1 << 30))
        http.headerTimeout = env.duration("HEADER_TIMEOUT", default: .seconds(10))
        http.bodyTimeout = env.duration("BODY_TIMEOUT", default: .seconds(30))
        http.idleTimeout = env.duration("IDLE_TIMEOUT", default: .seconds(60))
        self.http = http
        dataDirectory = env.string("DATA_DIR", default: "./.data/\(name)")
        internalToken = env.secret("BULKHEAD_INTERNAL_TOKEN")?.value ?? ""
        logLevel = env.logLevel("LOG_LEVEL", default: .info)
        accessLog = env.bool("ACCESS_LOG", default: true)
        shutdownGrace = env.duration("SHUTDOWN_GRACE", default: .seconds(10))
    }
}
