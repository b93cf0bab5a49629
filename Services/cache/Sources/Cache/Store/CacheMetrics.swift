import BulkheadObservability
import Synchronization

/// The cache's Prometheus metrics (no tenant label: per-tenant numbers come from the stats
/// routes). Gauges read a snapshot the store publishes after each change.
final class CacheMetrics: Sendable {
    let lookups: CounterFamily
    let savedCost: CounterFamily
    let evictions: CounterFamily
    let counterOps: CounterFamily
    /// Entries, bytes and index vectors by kind, as of the store's last change.
    let snapshot = Mutex(GaugeSnapshot())

    struct GaugeSnapshot: Sendable {
        var entries = 0
        var bytes = 0
        var indexVectors: [String: Int] = ["exact": 0, "hnsw": 0]
    }

    init(registry: MetricsRegistry) throws {
        lookups = try registry.counter("cache_lookups_total", help: "Cache lookups by result (hit_exact, hit_semantic, miss).", labelNames: ["result"])
        savedCost = try registry.counter("cache_saved_cost_micro_usd_total", help: "Sum of the stored cost of every hit (micro-USD).")
        evictions = try registry.counter("cache_evictions_total", help: "Entries removed, by reason (lru_entries, lru_bytes, ttl, invalidated).", labelNames: ["reason"])
        counterOps = try registry.counter("cache_counter_ops_total", help: "Counter and bucket operations, by result (allowed, refused).", labelNames: ["result"])
        for r in ["hit_exact", "hit_semantic", "miss"] { lookups.labels(r).inc(by: 0) }
        for r in EvictionReason.allCases { evictions.labels(r.rawValue).inc(by: 0) }
        for r in ["allowed", "refused"] { counterOps.labels(r).inc(by: 0) }
        savedCost.inc(by: 0)
        _ = try registry.callbackGauge("cache_entries", help: "Live cache entries.") { [self] in Double(snapshot.withLock { $0.entries }) }
        _ = try registry.callbackGauge("cache_bytes", help: "Bytes counted against the cache limits.") { [self] in Double(snapshot.withLock { $0.bytes }) }
        _ = try registry.callbackGauge("cache_index_vectors", help: "Vectors in namespace indexes, by index kind.", labelNames: ["kind"]) { [self] in
            snapshot.withLock { $0.indexVectors }.sorted { $0.key < $1.key }.map { CallbackGauge.Sample(labelValues: [$0.key], value: Double($0.value)) }
        }
    }
}
