import BulkheadHTTP
import BulkheadObservability

/// What each service library provides; its executable's `main.swift` only calls `ServiceMain.run(Self.self)`.
///
/// ```swift
/// public enum AuthService: ServiceDefinition {
///     public static let name = "auth"
///     public static let defaultPort = 8081
///     public static func build(_ context: ServiceContext) async throws -> ServiceParts { ... }
/// }
/// ```
public protocol ServiceDefinition: Sendable {
    static var name: String { get }
    static var defaultPort: Int { get }
    /// Validates service-specific settings (collecting problems in `context.environment`)
    /// and returns routes, checks and background work.
    static func build(_ context: ServiceContext) async throws -> ServiceParts
}

/// Everything the scaffolding hands a service when it builds.
public struct ServiceContext: Sendable {
    public var configuration: ServiceConfiguration
    public var environment: Environment
    public var logger: Logger
    public var metrics: MetricsRegistry

    /// For building a service's parts outside `ServiceHost` (tests of a layer on its own).
    public init(configuration: ServiceConfiguration, environment: Environment, logger: Logger, metrics: MetricsRegistry) {
        self.configuration = configuration
        self.environment = environment
        self.logger = logger
        self.metrics = metrics
    }
}

/// A dependency check for `/readyz`.
public struct ReadinessCheck: Sendable {
    public var name: String
    /// Returns nil when ready, or a short reason when not.
    public var check: @Sendable () async -> String?
    public init(name: String, check: @escaping @Sendable () async -> String?) {
        self.name = name
        self.check = check
    }
}

/// A service's contribution on top of the common routes.
public struct ServiceParts: Sendable {
    public var router: Router
    public var middleware: [any HTTPMiddleware]
    public var readiness: [ReadinessCheck]
    /// Long-running work (workers, scrapers); cancelled at shutdown after the server drained.
    public var background: [@Sendable () async throws -> Void]
    /// Called last at shutdown (close databases, flush).
    public var onShutdown: @Sendable () async -> Void
    /// Called first at shutdown, before the server drains: end long polls and other requests
    /// that would otherwise hold the drain for the whole grace period.
    public var onDrainStart: @Sendable () async -> Void
    /// Body limit for routes that set none.
    public var defaultBodyLimit: Int?
    /// Body of the errors the connection layer answers itself (413 before the body, 400, 408,
    /// 431...); nil keeps Bulkhead's `{"error":{"code","message"}}`.
    public var connectionErrorRenderer: HTTPApplication.ConnectionErrorRenderer?

    public init(
        router: Router = Router(), middleware: [any HTTPMiddleware] = [], readiness: [ReadinessCheck] = [],
        background: [@Sendable () async throws -> Void] = [], onShutdown: @escaping @Sendable () async -> Void = {},
        defaultBodyLimit: Int? = nil, connectionErrorRenderer: HTTPApplication.ConnectionErrorRenderer? = nil,
        onDrainStart: @escaping @Sendable () async -> Void = {}
    ) {
        self.connectionErrorRenderer = connectionErrorRenderer
        self.onDrainStart = onDrainStart
        self.router = router
        self.middleware = middleware
        self.readiness = readiness
        self.background = background
        self.onShutdown = onShutdown
        self.defaultBodyLimit = defaultBodyLimit
    }
}
