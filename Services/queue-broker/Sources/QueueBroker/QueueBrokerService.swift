import BulkheadHTTP
import BulkheadObservability
import BulkheadService
import BulkheadStorage

/// queue-broker: durable work queues and replayable event streams (see the service README).
///
/// Settings: `QUEUE_SYNCHRONOUS` (`full`, default, or `normal`), `STREAM_SYNC_INTERVAL` (default
/// 250ms; 0: every stream append is fsynced), `STREAM_MAX_AGE` (default 24h),
/// `STREAM_MAX_LENGTH` (default 10000), `SWEEP_INTERVAL` (default 30s).
public enum QueueBrokerService: ServiceDefinition {
    public static let name = "queue-broker"
    public static let defaultPort = 8083

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        let env = context.environment
        let syncText = env.string("QUEUE_SYNCHRONOUS", default: "full").lowercased()
        let synchronous: SQLiteConfiguration.Synchronous
        switch syncText {
        case "full": synchronous = .full
        case "normal": synchronous = .normal
        default:
            env.recordProblem("QUEUE_SYNCHRONOUS: expected full or normal, got \"\(syncText)\"")
            synchronous = .full
        }
        let streamSync = env.duration("STREAM_SYNC_INTERVAL", default: .milliseconds(250))
        if streamSync < .zero || streamSync > .seconds(10) {
            env.recordProblem("STREAM_SYNC_INTERVAL: expected 0 to 10s, got \(streamSync)")
        }
        let streamAge = env.duration("STREAM_MAX_AGE", default: .seconds(86_400))
        let streamLength = env.int("STREAM_MAX_LENGTH", default: 10_000, range: 1...10_000_000)
        let sweepEvery = env.duration("SWEEP_INTERVAL", default: .seconds(30))
        guard env.problems.isEmpty else { return ServiceParts() }  // start() reports every problem

        let store = try MessageStore(path: context.configuration.dataDirectory + "/queue-broker.sqlite", synchronous: synchronous, streamSyncInterval: streamSync)
        let metrics = try BrokerMetrics(registry: context.metrics)
        metrics.attach(store)
        let ageMs = streamAge.components.seconds * 1000 + streamAge.components.attoseconds / 1_000_000_000_000_000
        let broker = try Broker(
            store: store, streamMaxAge: ageMs, streamMaxLength: streamLength,
            onCounts: { q, s, r, a in metrics.count(queue: q, sent: s, received: r, acked: a) })
        metrics.attach(broker)
        _ = await broker.allStats()

        var router = Router()
        BrokerRoutes.add(to: &router, broker: broker)
        return ServiceParts(
            router: router,
            readiness: [
                .dataDirectoryWritable(context.configuration.dataDirectory),
                ReadinessCheck(name: "database") {
                    (try? store.database.query("SELECT 1").first) == nil ? "database not answering" : nil
                },
            ],
            background: [
                {
                    // Refresh the gauges' snapshot every second; sweep retention less often.
                    var last = ContinuousClock.now
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(1))
                        _ = await broker.allStats()
                        if ContinuousClock.now - last >= sweepEvery {
                            last = ContinuousClock.now
                            await broker.sweep()
                        }
                    }
                }
            ],
            onShutdown: { store.close() },
            onDrainStart: { await broker.endLongPolls() })
    }
}
