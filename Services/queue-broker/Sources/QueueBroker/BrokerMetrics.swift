import BulkheadObservability

/// The broker's Prometheus metrics: per-queue callback gauges (read from the broker's stats
/// snapshot, refreshed every second) and counters for sent/received/acked messages.
final class BrokerMetrics: Sendable {
    let sent: CounterFamily
    let received: CounterFamily
    let acked: CounterFamily
    let registry: MetricsRegistry

    init(registry: MetricsRegistry) throws {
        self.registry = registry
        sent = try registry.counter("queue_messages_sent_total", help: "Messages enqueued (duplicates excluded).", labelNames: ["queue"])
        received = try registry.counter("queue_messages_received_total", help: "Messages leased to consumers.", labelNames: ["queue"])
        acked = try registry.counter("queue_messages_acked_total", help: "Messages acknowledged (deleted).", labelNames: ["queue"])
    }

    func count(queue: String, sent s: Int, received r: Int, acked a: Int) {
        if s > 0 { sent.labels(queue).inc(by: s) }
        if r > 0 { received.labels(queue).inc(by: r) }
        if a > 0 { acked.labels(queue).inc(by: a) }
    }

    /// Registers the store's commit counts (how often stream appends skipped their fsync).
    func attach(_ store: MessageStore) {
        _ = try? registry.callbackGauge(
            "queue_store_commits", help: "Transactions committed since start, by fsync: immediate (before answering) or deferred (stream appends).",
            labelNames: ["fsync"]
        ) {
            let all = store.commits.load(ordering: .relaxed), deferred = store.deferredCommits.load(ordering: .relaxed)
            return [
                CallbackGauge.Sample(labelValues: ["immediate"], value: Double(all - deferred)),
                CallbackGauge.Sample(labelValues: ["deferred"], value: Double(deferred)),
            ]
        }
        _ = try? registry.callbackGauge(
            "queue_store_deferred_syncs", help: "Checkpoints run to make deferred stream appends durable when no queue commit did."
        ) { Double(store.deferredSyncs.load(ordering: .relaxed)) }
    }

    /// Registers the gauges over `broker`'s snapshot.
    func attach(_ broker: Broker) {
        let gauges: [(String, String, @Sendable (QueueStats) -> Double)] = [
            ("queue_messages_visible", "Messages receivable now.", { Double($0.visible) }),
            ("queue_messages_in_flight", "Messages leased and not expired.", { Double($0.inFlight) }),
            ("queue_messages_delayed", "Messages waiting for a delay or backoff.", { Double($0.delayed) }),
            ("queue_messages_dead_lettered", "Messages in the dead-letter area.", { Double($0.deadLettered) }),
            ("queue_oldest_message_age_seconds", "Age of the oldest live message.", { $0.oldestAgeSeconds }),
        ]
        for (name, help, value) in gauges {
            _ = try? registry.callbackGauge(name, help: help, labelNames: ["queue"]) {
                broker.snapshot.withLock { $0 }.map { CallbackGauge.Sample(labelValues: [$0.queue], value: value($0)) }
            }
        }
    }
}
