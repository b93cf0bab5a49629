import BulkheadObservability

/// The core's settings, read once at start (see the service README).
struct CoreSettings: Sendable {
    /// `GATEWAY_CATALOG`: path of the catalog JSON; nil serves the built-in catalog.
    var catalogPath: String?
    var retry = RetryPolicy()
    var upstream = UpstreamClients.Settings()
    /// `GATEWAY_CACHE_ENABLED`: whether any call may be cacheable.
    var cacheEnabled = true
    /// `GATEWAY_CACHE_MAX_TEMPERATURE`: cacheable only at or below this temperature (absent = 1, OpenAI's default).
    var cacheMaxTemperature = 0.3
    /// `GATEWAY_CHAT_BODY_LIMIT`: largest chat request body (413 beyond).
    var chatBodyLimit = 4 << 20
    /// `GATEWAY_PROGRESS_EVERY`: output tokens between `ticket.progress` calls while streaming.
    var progressEvery = 16

    static func read(_ env: Environment) -> CoreSettings {
        var s = CoreSettings()
        s.catalogPath = env.string("GATEWAY_CATALOG")
        s.retry.maxAttempts = env.int("GATEWAY_MAX_ATTEMPTS", default: 3, range: 1...10)
        s.retry.baseDelay = env.duration("GATEWAY_RETRY_BASE_DELAY", default: .milliseconds(100))
        s.retry.maxDelay = env.duration("GATEWAY_RETRY_MAX_DELAY", default: .seconds(5))
        s.retry.maxRetryAfter = env.duration("GATEWAY_MAX_RETRY_AFTER", default: .seconds(30))
        s.retry.totalDeadline = env.duration("GATEWAY_REQUEST_DEADLINE", default: .seconds(600))
        s.upstream.loops = env.int("GATEWAY_UPSTREAM_THREADS", default: 2, range: 1...64)
        s.upstream.maxConnectionsPerHost = env.int("GATEWAY_UPSTREAM_MAX_CONNECTIONS", default: 256, range: 1...100_000)
        s.cacheEnabled = env.bool("GATEWAY_CACHE_ENABLED", default: true)
        s.cacheMaxTemperature = env.double("GATEWAY_CACHE_MAX_TEMPERATURE", default: 0.3, range: 0...2)
        s.chatBodyLimit = env.int("GATEWAY_CHAT_BODY_LIMIT", default: 4 << 20, range: 1024...(64 << 20))
        s.progressEvery = env.int("GATEWAY_PROGRESS_EVERY", default: 16, range: 1...100_000)
        return s
    }
}
