import BulkheadHTTP
import BulkheadObservability
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Runs one service: its HTTP server with the common routes (`/healthz`, `/readyz`, `/metrics`),
/// the internal-token guard, its background work, and an orderly shutdown.
/// Tests start services in-process with `ServiceHost.start(..., environment:)` on port 0.
public final class ServiceHost: Sendable {
    public let name: String
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let metrics: MetricsRegistry
    let server: HTTPServer
    let parts: ServiceParts
    let backgroundTasks: Mutex<[Task<Void, Never>]>
    let stopped = Mutex(false)

    /// The bound port.
    public var port: Int { server.port }
    /// `http://host:port` of this service.
    public var baseURL: String {
        let host = configuration.http.host.contains(":") ? "[\(configuration.http.host)]" : configuration.http.host
        return "http://\(host):\(port)"
    }

    private init(name: String, configuration: ServiceConfiguration, logger: Logger, metrics: MetricsRegistry, server: HTTPServer, parts: ServiceParts) {
        self.name = name
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.server = server
        self.parts = parts
        backgroundTasks = Mutex([])
    }

    /// Reads configuration, builds the service, binds and starts serving.
    /// Throws `ConfigurationError` listing every bad setting.
    public static func start<S: ServiceDefinition>(_ service: S.Type, environment: Environment = Environment()) async throws -> ServiceHost {
        let configuration = ServiceConfiguration(name: S.name, defaultPort: S.defaultPort, environment: environment)
        let logger = Logger(service: S.name, minimumLevel: configuration.logLevel)
        let metrics = MetricsRegistry()
        let context = ServiceContext(configuration: configuration, environment: environment, logger: logger, metrics: metrics)
        let parts = try await S.build(context)
        try environment.validate()

        let checks = parts.readiness
        var router = parts.router
        router.get("/healthz") { _, _ in .json(bytes: Array(#"{"status":"ok"}"#.utf8)) }
        router.get("/readyz") { _, _ in
            var failures: [(String, String)] = []
            for c in checks {
                if let reason = await c.check() { failures.append((c.name, reason)) }
            }
            let checksJSON = checks.map { c -> String in
                let failed = failures.first { $0.0 == c.name }
                return "\(JSONText.quoted(c.name)):\(JSONText.quoted(failed?.1 ?? "ok"))"
            }.joined(separator: ",")
            let status = failures.isEmpty ? "ready" : "not_ready"
            return .json(
                bytes: Array("{\"status\":\"\(status)\",\"checks\":{\(checksJSON)}}".utf8),
                status: failures.isEmpty ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            HTTPResponse(contentType: "text/plain; version=0.0.4; charset=utf-8", body: Array(metrics.render().utf8))
        }
        var middleware: [any HTTPMiddleware] = [InternalTokenMiddleware(token: configuration.internalToken)]
        middleware.append(contentsOf: parts.middleware)
        let app = HTTPApplication(
            router: router, middleware: middleware, logger: logger, metrics: try HTTPMetrics(registry: metrics),
            defaultBodyLimit: parts.defaultBodyLimit ?? configuration.http.defaultMaxBodyBytes, accessLog: configuration.accessLog,
            connectionErrorRenderer: parts.connectionErrorRenderer)
        let server = try HTTPServer(configuration: configuration.http, responder: app)
        try server.start()
        let host = ServiceHost(name: S.name, configuration: configuration, logger: logger, metrics: metrics, server: server, parts: parts)
        let tasks = parts.background.map { work in
            Task {
                do { try await work() } catch is CancellationError {} catch {
                    logger.error("background task failed", ["error": .string(String(describing: error))])
                }
            }
        }
        host.backgroundTasks.withLock { $0 = tasks }
        logger.info("listening", ["address": .string(host.baseURL)])
        return host
    }

    /// Drains the server, stops background work, then runs the service's own shutdown. Idempotent.
    public func shutdown() async {
        let already = stopped.withLock { s -> Bool in
            defer { s = true }
            return s
        }
        if already { return }
        logger.info("shutting down", ["grace_seconds": .int(Int(configuration.shutdownGrace.components.seconds))])
        await parts.onDrainStart()
        await server.shutdown(gracePeriod: configuration.shutdownGrace)
        let tasks = backgroundTasks.withLock { $0 }
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
        await parts.onShutdown()
        logger.info("stopped")
    }
}
