import BulkheadObservability

/// The tenancy side's metrics on `/metrics` (names agreed with the core so they never collide).
struct TenancyMetrics: Sendable {
    let outputTokens: CounterFamily
    let cost: CounterFamily
    let savedCost: CounterFamily
    let cacheLookups: CounterFamily
    let cacheStoreErrors: CounterFamily
    let throttled: CounterFamily
    let limitsDegraded: GaugeFamily
    let limitStoreErrors: CounterFamily
    let usageDropped: CounterFamily
    let usageSent: CounterFamily
    let tokenRate: TokenRateWindow

    init(_ registry: MetricsRegistry) throws {
        outputTokens = try registry.counter("gateway_output_tokens_total", help: "Output (completion) tokens generated, by public model.", labelNames: ["model"])
        cost = try registry.counter("gateway_cost_micro_usd_total", help: "AI cost charged, micro-USD, by tenant and model.", labelNames: ["tenant", "model"])
        savedCost = try registry.counter(
            "gateway_saved_cost_micro_usd_total", help: "Cost of the original calls answered from the cache, micro-USD.", labelNames: ["tenant", "model"])
        cacheLookups = try registry.counter(
            "gateway_cache_lookups_total", help: "Semantic cache lookups by result (hit_exact, hit_semantic, miss, error).", labelNames: ["result"])
        cacheStoreErrors = try registry.counter("gateway_cache_store_errors_total", help: "Answers that could not be stored in the cache.")
        throttled = try registry.counter("gateway_throttled_total", help: "Calls refused with 429, by the limit that refused them.", labelNames: ["limit"])
        limitsDegraded = try registry.gauge(
            "gateway_limits_degraded", help: "1 while the counter store is unreachable and the failure policy applies (local limits or refusal).")
        limitStoreErrors = try registry.counter("gateway_limit_store_errors_total", help: "Failed calls to the counter store (cache service).")
        usageDropped = try registry.counter("gateway_usage_records_dropped_total", help: "Usage records dropped because queue-broker was unreachable too long.")
        usageSent = try registry.counter("gateway_usage_records_sent_total", help: "Usage records delivered to queue-broker.")
        let rate = TokenRateWindow(seconds: 10)
        tokenRate = rate
        try registry.callbackGauge(
            "gateway_output_tokens_per_second", help: "Output tokens per second over the last 10 s, by model.", labelNames: ["model"]
        ) { rate.rates().map { CallbackGauge.Sample(labelValues: [$0.key], value: $0.value) } }
        for r in ["hit_exact", "hit_semantic", "miss", "error"] { _ = cacheLookups.labels(r) }
        limitsDegraded.set(0)
    }
}
