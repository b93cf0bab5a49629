import BulkheadObservability

/// The job worker's metrics.
struct WorkerMetrics: Sendable {
    let queueWait: HistogramFamily
    let jobs: CounterFamily
    let inFlight: GaugeFamily

    init(_ registry: MetricsRegistry) throws {
        queueWait = try registry.histogram(
            "gateway_job_queue_wait_seconds", help: "Time from a job's acceptance by api-core to its start on a worker.",
            buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900])
        jobs = try registry.counter(
            "gateway_jobs_total", help: "Jobs handled, by outcome (completed, failed, cancelled, retried, skipped, released, invalid).",
            labelNames: ["outcome"])
        inFlight = try registry.gauge("gateway_jobs_in_flight", help: "Jobs running on this worker.")
        inFlight.set(0)
    }
}
