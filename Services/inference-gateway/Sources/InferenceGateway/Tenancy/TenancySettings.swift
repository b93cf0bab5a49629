import BulkheadObservability
import Foundation

/// The tenancy layer's settings, read once from the environment (documented in the gateway's
/// README, section "Tenancy, limits, cache and workers").
struct TenancySettings: Sendable {
    var authURL: String?
    var issuer: String
    var audience: String
    /// Whether `/v1/` requires a credential (`GATEWAY_AUTH`; default `required` with `AUTH_URL`).
    var authRequired: Bool
    var apiKeyCacheTTL: Duration
    var cacheURL: String?
    var queueBrokerURL: String?
    var failurePolicy: LimitsFailurePolicy
    var limitsTimeout: Duration
    var planCacheTTL: Duration
    var concurrentRequestsPerJob: Int
    var cacheEmbeddingModel: String
    var cacheThreshold: Double?
    var cacheTTLSeconds: Int?
    var cacheTimeout: Duration
    var usageBuffer: Int
    var usageFlushInterval: Duration
    var shutdownWait: Duration

    init(_ env: Environment) {
        authURL = env.url("AUTH_URL", schemes: ["http", "https"])?.absoluteString
        issuer = env.string("AUTH_ISSUER", default: "bulkhead-auth")
        audience = env.string("AUTH_AUDIENCE", default: "bulkhead")
        let authMode = env.string("GATEWAY_AUTH", default: authURL == nil ? "off" : "required")
        if authMode != "required" && authMode != "off" { env.recordProblem("GATEWAY_AUTH must be required or off, got '\(authMode)'") }
        authRequired = authMode == "required"
        if authRequired && authURL == nil {
            env.recordProblem("GATEWAY_AUTH=required needs AUTH_URL (access tokens and API keys are verified through auth)")
        }
        apiKeyCacheTTL = env.duration("GATEWAY_API_KEY_CACHE_TTL", default: .seconds(5))
        cacheURL = env.url("CACHE_URL", schemes: ["http", "https"])?.absoluteString
        queueBrokerURL = env.url("QUEUE_BROKER_URL", schemes: ["http", "https"])?.absoluteString
        let policy = env.string("GATEWAY_LIMITS_ON_STORE_FAILURE", default: "open")
        if LimitsFailurePolicy(rawValue: policy) == nil {
            env.recordProblem("GATEWAY_LIMITS_ON_STORE_FAILURE must be open or closed, got '\(policy)'")
        }
        failurePolicy = LimitsFailurePolicy(rawValue: policy) ?? .open
        limitsTimeout = env.duration("GATEWAY_LIMITS_TIMEOUT", default: .milliseconds(250))
        planCacheTTL = env.duration("GATEWAY_PLAN_CACHE_TTL", default: .seconds(30))
        concurrentRequestsPerJob = env.int("GATEWAY_CONCURRENT_REQUESTS_PER_JOB", default: 4, range: 1...1000)
        cacheEmbeddingModel = env.string("GATEWAY_CACHE_EMBEDDING_MODEL", default: "all-minilm-l6-v2-int8")
        if LocalProvider.entry(cacheEmbeddingModel) == nil {
            env.recordProblem("GATEWAY_CACHE_EMBEDDING_MODEL must be a local model (\(LocalProvider.models.map(\.id).joined(separator: ", ")))")
        }
        if let raw = env.string("GATEWAY_CACHE_THRESHOLD") {
            if let t = Double(raw), t > 0, t <= 1 { cacheThreshold = t } else {
                env.recordProblem("GATEWAY_CACHE_THRESHOLD must be a number in (0, 1], got '\(raw)'")
            }
        }
        let ttl = env.duration("GATEWAY_CACHE_TTL", default: .seconds(86_400))
        cacheTTLSeconds = ttl > .zero ? Int(ttl.components.seconds) : nil
        cacheTimeout = env.duration("GATEWAY_CACHE_TIMEOUT", default: .milliseconds(100))
        usageBuffer = env.int("GATEWAY_USAGE_BUFFER", default: 10_000, range: 10...1_000_000)
        usageFlushInterval = env.duration("GATEWAY_USAGE_FLUSH_INTERVAL", default: .milliseconds(200))
        shutdownWait = env.duration("GATEWAY_TENANCY_SHUTDOWN_WAIT", default: .seconds(3))
    }
}
