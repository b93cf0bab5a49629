import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService

/// cache: exact and semantic cache of AI responses, and the global counters behind the
/// gateway's rate limits and budgets (see `Services/cache/README.md`).
///
/// At start it opens `DATA_DIR/cache.sqlite`, drops expired rows, loads the live entries and
/// rebuilds each namespace's vector index (logging "loaded N entries in X ms"); lookups are
/// then served from memory, and changes are written behind by a `CacheWriter`.
public enum CacheService: ServiceDefinition {
    public static let name = "cache"
    public static let defaultPort = 8084

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        let settings = CacheSettings(environment: context.environment)
        guard context.environment.problems.isEmpty else { return ServiceParts() }  // start() reports every problem

        let logger = context.logger
        let database = try CacheDatabase(path: context.configuration.dataDirectory + "/cache.sqlite")
        let writer = CacheWriter(database: database, logger: logger)
        let metrics = try CacheMetrics(registry: context.metrics)
        let store = CacheStore(
            settings: settings, metrics: metrics, writer: writer, snapshotDirectory: context.configuration.dataDirectory + "/index", logger: logger)
        let report = try await store.load(from: database)
        try writer.flushNow()
        logger.info(
            "loaded \(report.entries) entries in \(Int(report.milliseconds.rounded())) ms",
            [
                "entries": .int(report.entries), "namespaces": .int(report.namespaces), "expired_dropped": .int(report.expiredDropped),
                "index_snapshots_loaded": .int(report.snapshotsLoaded),
                "milliseconds": .double(report.milliseconds),
            ])
        let counters = CounterStore(maxCounters: settings.maxCounters)

        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.threadName = "cache-embeddings"
        let client: HTTPClient? = settings.gatewayURL == nil ? nil : try HTTPClient(configuration: clientConfiguration)
        let embedder = EmbeddingClient(
            client: client, baseURL: settings.gatewayURL, model: settings.embeddingModel, token: context.configuration.internalToken,
            timeout: .seconds(15))

        var router = Router()
        CacheRoutes.add(to: &router, store: store, settings: settings, embedder: embedder)
        CounterRoutes.add(to: &router, counters: counters, metrics: metrics)
        let sweepEvery = settings.sweepInterval
        let slice = settings.maintenanceSlice
        return ServiceParts(
            router: router,
            readiness: [
                .dataDirectoryWritable(context.configuration.dataDirectory),
                ReadinessCheck(name: "database") {
                    (try? database.database.query("SELECT 1").first) == nil ? "database not answering" : nil
                },
            ],
            background: [
                { try await writer.run() },
                {
                    while !Task.isCancelled {
                        try await Task.sleep(for: sweepEvery)
                        let expired = await store.sweep()
                        let idle = counters.sweep()
                        if expired + idle > 0 {
                            logger.debug("swept", ["expired_entries": .int(expired), "idle_counters": .int(idle)])
                        }
                    }
                },
                {
                    // Finishes HNSW graph builds in short slices of the store's time: requests
                    // queued meanwhile run between two slices (the store's queue is FIFO).
                    while !Task.isCancelled {
                        let more = await store.maintainIndexes(budget: slice)
                        try await Task.sleep(for: more ? .milliseconds(1) : .milliseconds(100))
                    }
                },
            ],
            onShutdown: {
                let started = ContinuousClock.now
                let snapshots = await store.writeSnapshots()
                if snapshots > 0 {
                    logger.info("wrote \(snapshots) index snapshots in \(ContinuousClock.now - started)")
                }
                writer.finish()
                do { try writer.flushNow() } catch {
                    logger.error("final cache write failed", ["error": .string(String(describing: error))])
                }
                await client?.shutdown()
            })
    }
}
