import BulkheadObservability

/// The core's AI metrics on `/metrics` (the tenancy layer registers its own names).
final class CoreMetrics: Sendable {
    let upstreamRequests: CounterFamily
    let upstreamErrors: CounterFamily
    let inFlight: GaugeFamily
    let timeToFirstToken: HistogramFamily
    let duration: HistogramFamily
    let retries: CounterFamily
    let fallbacks: CounterFamily
    let circuitState: GaugeFamily
    let catalogReloads: CounterFamily

    init(_ registry: MetricsRegistry) throws {
        upstreamRequests = try registry.counter(
            "gateway_upstream_requests_total", help: "Attempts sent to upstream deployments, by outcome (ok or an error type).",
            labelNames: ["deployment", "outcome"])
        upstreamErrors = try registry.counter(
            "gateway_upstream_errors_total",
            help: "Failed upstream attempts by type (timeout, connect, status_429, status_5xx, status_4xx, stream_error, first_token_timeout, circuit_open).",
            labelNames: ["deployment", "type"])
        inFlight = try registry.gauge("gateway_in_flight", help: "Upstream calls in flight per deployment.", labelNames: ["deployment"])
        let latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
        timeToFirstToken = try registry.histogram(
            "gateway_time_to_first_token_seconds", help: "Time from request to the first token of a chat answer, by public model.",
            labelNames: ["model"], buckets: latencyBuckets)
        duration = try registry.histogram(
            "gateway_inference_duration_seconds", help: "Time from request to the end of the answer, by public model.",
            labelNames: ["model"], buckets: latencyBuckets)
        retries = try registry.counter("gateway_retries_total", help: "Attempts beyond the first, by public model.", labelNames: ["model"])
        fallbacks = try registry.counter("gateway_fallbacks_total", help: "Calls moved to a fallback model.", labelNames: ["from", "to"])
        circuitState = try registry.gauge(
            "gateway_circuit_state", help: "Circuit breaker per deployment: 0 closed, 1 half-open, 2 open.", labelNames: ["deployment"])
        catalogReloads = try registry.counter("gateway_catalog_reloads_total", help: "Catalog reloads by result (ok, error).", labelNames: ["result"])
    }
}
