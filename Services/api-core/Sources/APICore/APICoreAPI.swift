import BulkheadHTTP
import BulkheadObservability
import BulkheadService
import Foundation
import Shared

/// api-core's request handling: the stores, the broker clients and the plan gate. Routes live
/// in `APICoreAPI+<Area>.swift`.
final class APICoreAPI: Sendable {
    let settings: APICoreSettings
    let jobs: JobStore
    let usage: UsageStore
    let settingsStore: SettingsStore
    /// Sends and appends of submits and cancels.
    let submitBroker: BrokerClient
    /// Stream long-polls of SSE and WebSocket readers: its own pool, so thousands of open
    /// streams cannot starve submits.
    let streamBroker: BrokerClient
    let plans: PlanGate
    /// The gateway's model names, when `GATEWAY_URL` is set (nil: submissions are not checked).
    let models: ModelCatalog?
    let metrics: APICoreMetrics
    let logger: Logger
    /// The settings store's own threads (the bulkhead between settings and AI bookkeeping).
    let settingsLane = BlockingLane(name: "settings", threads: 2)

    init(
        settings: APICoreSettings, jobs: JobStore, usage: UsageStore, settingsStore: SettingsStore, submitBroker: BrokerClient,
        streamBroker: BrokerClient, plans: PlanGate, models: ModelCatalog?, metrics: APICoreMetrics, logger: Logger
    ) {
        self.settings = settings
        self.jobs = jobs
        self.usage = usage
        self.settingsStore = settingsStore
        self.submitBroker = submitBroker
        self.streamBroker = streamBroker
        self.plans = plans
        self.models = models
        self.metrics = metrics
        self.logger = logger
    }

    func register(into router: inout Router) {
        SettingsRoutes(store: settingsStore, lane: settingsLane).register(into: &router)
        registerJobRoutes(into: &router)
        registerLiveRoutes(into: &router)
        registerUsageRoutes(into: &router)
        router.get("/openapi.json") { _, _ in
            .json(bytes: Array(OpenAPIDocument.text.utf8), headers: ["Cache-Control": "public, max-age=300"])
        }
    }

    /// The tenant's job, or 404 `job_not_found` (also for another tenant's job: existence never leaks).
    func job(_ id: String, tenant: String) async throws -> JobRecord {
        guard Self.plausibleJobID(id), let job = try await BlockingWork.run({ [jobs] in try jobs.job(id: id, tenant: tenant) }) else {
            throw HTTPError(.notFound, code: "job_not_found", message: "No job with id '\(id.prefix(64))'.")
        }
        return job
    }

    static func plausibleJobID(_ id: String) -> Bool {
        id.hasPrefix("job_") && id.utf8.count <= 64 && id.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }
    }
}
