import BulkheadObservability

/// api-core's own settings, read once at start (problems are collected in the environment and
/// stop the start with one message).
struct APICoreSettings: Sendable {
    /// auth's base URL (JWKS, introspection, plans).
    var authURL: String
    /// queue-broker's base URL.
    var queueBrokerURL: String
    /// Interval of SSE heartbeat comments.
    var sseHeartbeat: Duration
    /// Interval of WebSocket pings.
    var webSocketPing: Duration
    /// Subscriptions one WebSocket may hold at once.
    var maxSubscriptionsPerSocket: Int
    /// How long a tenant's plan is cached.
    var planCacheTTL: Duration
    /// How long an API key's introspection is cached (capped at 10 s by the introspector).
    var apiKeyCacheTTL: Duration
    /// Expected `iss`/`aud` of access tokens.
    var issuer: String
    var audience: String
    /// Connections to queue-broker for stream long-polls (SSE and WebSocket readers).
    var streamConnections: Int
    /// The gateway's base URL, for its model list (`GET /v1/models`); nil: submissions are not
    /// checked against the catalog.
    var gatewayURL: String?
    /// How long the gateway's model list is trusted before it is fetched again.
    var modelListTTL: Duration
    /// How often dead-lettered AI jobs are looked for and failed.
    var jobReaperInterval: Duration

    init(_ env: Environment) {
        authURL = Self.trimmed(env.string("AUTH_URL", default: "http://127.0.0.1:8081"))
        queueBrokerURL = Self.trimmed(env.string("QUEUE_BROKER_URL", default: "http://127.0.0.1:8083"))
        sseHeartbeat = env.duration("API_SSE_HEARTBEAT", default: .seconds(15))
        webSocketPing = env.duration("API_WS_PING_INTERVAL", default: .seconds(20))
        maxSubscriptionsPerSocket = env.int("API_WS_MAX_SUBSCRIPTIONS", default: 32, range: 1...1000)
        planCacheTTL = env.duration("API_PLAN_CACHE_TTL", default: .seconds(30))
        apiKeyCacheTTL = env.duration("API_KEY_CACHE_TTL", default: .seconds(5))
        issuer = env.string("AUTH_ISSUER", default: "bulkhead-auth")
        audience = env.string("AUTH_AUDIENCE", default: "bulkhead")
        streamConnections = env.int("API_STREAM_CONNECTIONS", default: 512, range: 1...100_000)
        gatewayURL = env.url("GATEWAY_URL", schemes: ["http", "https"]).map { Self.trimmed($0.absoluteString) }
        modelListTTL = env.duration("API_MODEL_LIST_TTL", default: .seconds(30))
        jobReaperInterval = env.duration("API_JOB_REAPER_INTERVAL", default: .seconds(10))
        if modelListTTL < .seconds(1) || modelListTTL > .seconds(3600) { env.recordProblem("API_MODEL_LIST_TTL: must be from 1s to 1h") }
        if jobReaperInterval < .milliseconds(100) || jobReaperInterval > .seconds(3600) {
            env.recordProblem("API_JOB_REAPER_INTERVAL: must be from 100ms to 1h")
        }
        if sseHeartbeat <= .zero { env.recordProblem("API_SSE_HEARTBEAT: must be positive") }
        if webSocketPing <= .zero { env.recordProblem("API_WS_PING_INTERVAL: must be positive") }
    }

    private static func trimmed(_ url: String) -> String { url.hasSuffix("/") ? String(url.dropLast()) : url }
}
