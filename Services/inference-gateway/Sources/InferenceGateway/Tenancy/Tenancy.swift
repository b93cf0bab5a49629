import BulkheadAuth
import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService

/// The gateway's tenancy layer: authentication, limits and budgets, cache, usage, AI metrics.
/// Settings are documented in the gateway README ("Tenancy, limits, cache and workers").
public struct Tenancy: Sendable {
    /// Applied to every route (OpenAI error shape and authentication on `/v1/`).
    public var middleware: [any HTTPMiddleware]
    public var hooks: any InferenceHooks
    public var readiness: [ReadinessCheck]
    public var background: [@Sendable () async throws -> Void]
    public var onShutdown: [@Sendable () async -> Void]
    /// What the job worker shares with the API side (settings, queue-broker, metrics).
    var parts: TenancyParts?

    /// Reads the tenancy settings from `context.environment`. `localModels` embeds conversations
    /// for the semantic cache in-process.
    public static func make(_ context: ServiceContext, localModels: LocalProvider) async throws -> Tenancy {
        let settings = TenancySettings(context.environment)
        let logger = context.logger
        let metrics = try TenancyMetrics(context.metrics)
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectTimeout = .seconds(1)
        clientConfiguration.maxConnectionsPerHost = 128
        clientConfiguration.threadName = "gateway-tenancy"
        let client = try HTTPClient(configuration: clientConfiguration)
        let token = context.configuration.internalToken
        let auth = settings.authURL.map { InternalServiceClient(baseURL: $0, token: token, client: client) }
        let cacheService = settings.cacheURL.map { InternalServiceClient(baseURL: $0, token: token, client: client) }
        let broker = settings.queueBrokerURL.map { InternalServiceClient(baseURL: $0, token: token, client: client) }

        let plans = PlanDirectory(auth: auth, ttl: settings.planCacheTTL, logger: logger)
        let limiter = TenantLimiter(
            remote: cacheService.map { RemoteCounterStore(service: $0, timeout: settings.limitsTimeout) },
            policy: settings.failurePolicy, plans: plans, concurrencyPerJob: settings.concurrentRequestsPerJob,
            metrics: metrics, logger: logger)
        // Whether a call may use the cache is the core's decision (`call.cacheable`); without a
        // cache service there is none.
        let cache = cacheService.map {
            SemanticCache(
                client: CacheClient(service: $0, lookupTimeout: settings.cacheTimeout), localModels: localModels,
                embeddingModel: settings.cacheEmbeddingModel, threshold: settings.cacheThreshold, ttlSeconds: settings.cacheTTLSeconds,
                metrics: metrics, logger: logger)
        }
        let usage = UsageRecorder(
            broker: broker, capacity: settings.usageBuffer, interval: settings.usageFlushInterval, metrics: metrics, logger: logger)
        let pending = PendingWork()
        let hooks = TenancyHooks(limiter: limiter, cache: cache, usage: usage, metrics: metrics, pending: pending, logger: logger)

        var middleware: [any HTTPMiddleware] = [OpenAIErrorShapeMiddleware()]
        if settings.authRequired, let authURL = settings.authURL {
            let verifier = AccessTokenVerifier(
                jwksURL: authURL + "/.well-known/jwks.json", client: client,
                configuration: .init(issuer: settings.issuer, audience: settings.audience))
            let introspector = APIKeyIntrospector(authURL: authURL, internalToken: token, client: client, cacheTTL: settings.apiKeyCacheTTL)
            middleware.append(GatewayAuthMiddleware(verifier: verifier, introspector: introspector, internalToken: Array(token.utf8)))
        } else {
            logger.warning("GATEWAY_AUTH=off: /v1/ accepts unauthenticated calls (no tenant, no limits); set AUTH_URL in production")
        }
        if cacheService == nil { logger.info("no CACHE_URL: limits are local to this process and the semantic cache is off") }

        let wait = settings.shutdownWait
        return Tenancy(
            middleware: middleware, hooks: hooks, readiness: [],
            background: [{ await usage.run() }],
            onShutdown: [{
                // Reconciliations and cache stores first (they may add nothing to usage), then usage.
                await pending.drain(timeout: wait)
                await usage.drain(timeout: wait)
                await client.shutdown()
            }],
            parts: TenancyParts(settings: settings, metrics: metrics, hooks: hooks, registry: context.metrics))
    }
}

/// The tenancy pieces the job worker reuses.
struct TenancyParts: Sendable {
    var settings: TenancySettings
    var metrics: TenancyMetrics
    var hooks: TenancyHooks
    var registry: MetricsRegistry
}
