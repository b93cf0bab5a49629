import BulkheadObservability

/// The default request metrics: count by method, route pattern and status, and latency by
/// method and route. Route patterns (not raw paths) keep label cardinality bounded.
public final class HTTPMetrics: Sendable {
    let requests: CounterFamily
    let duration: HistogramFamily

    public init(registry: MetricsRegistry) throws {
        requests = try registry.counter(
            "http_requests_total", help: "HTTP requests answered, by method, route and status.",
            labelNames: ["method", "route", "status"])
        duration = try registry.histogram(
            "http_request_duration_seconds", help: "Time from a complete request to its response, by method and route.",
            labelNames: ["method", "route"])
    }

    func observe(method: HTTPMethod, route: String, status: Int, duration elapsed: Duration) {
        requests.labels(method.rawValue, route, Self.statusText(status)).inc()
        duration.labels(method.rawValue, route).observe(elapsed)
    }

    private static let statusTexts: [String] = (0..<600).map { String($0) }
    private static func statusText(_ code: Int) -> String { code >= 0 && code < 600 ? statusTexts[code] : String(code) }
}
