import BulkheadObservability

/// api-core's own Prometheus metrics.
struct APICoreMetrics: Sendable {
    /// `api_jobs_submitted_total{kind}`.
    let submitted: CounterFamily
    /// `api_jobs_finished_total{status}`: completed, failed, cancelled (as recorded).
    let finished: CounterFamily
    /// `api_jobs_rejected_total{reason}`: concurrent_jobs_limit, daily_budget_exhausted, queue_unavailable.
    let rejected: CounterFamily
    /// `api_sse_connections` / `api_websocket_connections`: open live connections.
    let sseConnections: GaugeFamily
    let webSocketConnections: GaugeFamily
    /// `api_consumer_lag_seconds{queue}`: age of the last message a consumer applied.
    let consumerLag: GaugeFamily
    /// `api_consumer_messages_total{queue,result}`: applied, duplicate, poison, error.
    let consumed: CounterFamily
    /// `api_jobs_reaped_total{result}`: dead-lettered jobs the reaper ended: `failed` (retries
    /// exhausted), `cancelled` (a cancel had been requested), `settled` (the stream already held
    /// the worker's terminal event).
    let reaped: CounterFamily
    /// `api_job_reaper_rounds_total{result}`: reaper passes over the dead letters, `ok` or `error`.
    let reaperRounds: CounterFamily
    /// `api_model_checks_total{result}`: submissions checked against the gateway's model list:
    /// `known`, `unknown` (refused), `unverified` (no usable list: accepted unchecked).
    let modelChecks: CounterFamily
    /// `api_model_list_refreshes_total{result}`: fetches of the gateway's model list, `ok` or `error`.
    let modelListRefreshes: CounterFamily

    init(_ registry: MetricsRegistry) throws {
        submitted = try registry.counter("api_jobs_submitted_total", help: "Jobs accepted by kind.", labelNames: ["kind"])
        finished = try registry.counter("api_jobs_finished_total", help: "Jobs that reached a terminal status.", labelNames: ["status"])
        rejected = try registry.counter("api_jobs_rejected_total", help: "Job submissions refused by reason.", labelNames: ["reason"])
        sseConnections = try registry.gauge("api_sse_connections", help: "Open server-sent event streams.")
        webSocketConnections = try registry.gauge("api_websocket_connections", help: "Open WebSocket sessions.")
        consumerLag = try registry.gauge(
            "api_consumer_lag_seconds", help: "Age of the last message a background consumer applied.", labelNames: ["queue"])
        consumed = try registry.counter(
            "api_consumer_messages_total", help: "Messages handled by the background consumers.", labelNames: ["queue", "result"])
        reaped = try registry.counter(
            "api_jobs_reaped_total", help: "Dead-lettered AI jobs given a terminal status by the reaper.", labelNames: ["result"])
        reaperRounds = try registry.counter(
            "api_job_reaper_rounds_total", help: "Reaper passes over the AI job queue's dead letters.", labelNames: ["result"])
        modelChecks = try registry.counter(
            "api_model_checks_total", help: "Job submissions checked against the gateway's model list.", labelNames: ["result"])
        modelListRefreshes = try registry.counter(
            "api_model_list_refreshes_total", help: "Fetches of the gateway's model list.", labelNames: ["result"])
    }
}
