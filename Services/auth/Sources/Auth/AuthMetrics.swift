import BulkheadObservability

/// auth's own Prometheus metrics.
struct AuthMetrics: Sendable {
    /// `auth_logins_total{result}`: ok, invalid, throttled.
    let logins: CounterFamily
    /// `auth_refresh_total{result}`: rotated, reused, invalid.
    let refreshes: CounterFamily
    /// `auth_api_key_introspections_total{result}`: active, inactive.
    let introspections: CounterFamily

    init(_ registry: MetricsRegistry) throws {
        logins = try registry.counter("auth_logins_total", help: "Login attempts by result.", labelNames: ["result"])
        refreshes = try registry.counter("auth_refresh_total", help: "Refresh-token uses by result.", labelNames: ["result"])
        introspections = try registry.counter("auth_api_key_introspections_total", help: "API-key lookups by result.", labelNames: ["result"])
    }
}
