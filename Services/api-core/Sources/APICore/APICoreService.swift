import BulkheadAuth
import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadService
import BulkheadObservability
import Shared
import Synchronization

/// api-core: the SaaS core: settings, AI job submission (202 at once), live results over SSE and
/// WebSocket, usage. AI work never runs here: jobs go to queue-broker for inference-gateway
/// workers, and their events come back through queue-broker.
///
/// State: `DATA_DIR/settings.sqlite`, `DATA_DIR/jobs.sqlite`, `DATA_DIR/usage.sqlite`. If they
/// cannot be opened the service still starts with `/readyz` failing and naming why.
public enum APICoreService: ServiceDefinition {
    public static let name = "api-core"
    public static let defaultPort = 8080

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        let settings = APICoreSettings(context.environment)
        let dataDirectory = context.configuration.dataDirectory
        let token = context.configuration.internalToken
        let metrics = try APICoreMetrics(context.metrics)

        // Bulkhead: one client (and pool) per kind of traffic. Core calls (JWKS, API keys,
        // plans) never queue behind AI traffic; stream long-polls never starve submits.
        var coreConfig = HTTPClient.Configuration()
        coreConfig.threadName = "core-client"
        coreConfig.requestTimeout = .seconds(5)
        let coreClient = try HTTPClient(configuration: coreConfig)
        var submitConfig = HTTPClient.Configuration()
        submitConfig.threadName = "submit-client"
        submitConfig.maxConnectionsPerHost = 64
        let submitClient = try HTTPClient(configuration: submitConfig)
        var streamConfig = HTTPClient.Configuration()
        streamConfig.threadName = "stream-client"
        streamConfig.maxConnectionsPerHost = settings.streamConnections
        streamConfig.requestTimeout = nil
        let streamClient = try HTTPClient(configuration: streamConfig)
        var consumerConfig = HTTPClient.Configuration()
        consumerConfig.threadName = "consumer-client"
        consumerConfig.maxConnectionsPerHost = 8
        let consumerClient = try HTTPClient(configuration: consumerConfig)
        let shutdownClients: @Sendable () async -> Void = {
            await coreClient.shutdown(); await submitClient.shutdown(); await streamClient.shutdown(); await consumerClient.shutdown()
        }

        // The model list is a background fetch with its own deadline (2 s): a slow gateway delays
        // no submission of a known model. It belongs to the AI side, so it uses the submit
        // client: a gateway under load never holds a connection or loop the core calls need.
        let models = settings.gatewayURL.map { url in
            ModelCatalog(
                gatewayURL: url, internalToken: token, client: submitClient, ttl: settings.modelListTTL, metrics: metrics, logger: context.logger)
        }
        if models == nil { context.logger.info("no GATEWAY_URL: job models are not checked against the gateway's catalog") }

        let api: APICoreAPI
        do {
            let broker = { (client: HTTPClient) in BrokerClient(baseURL: settings.queueBrokerURL, internalToken: token, client: client) }
            api = APICoreAPI(
                settings: settings,
                jobs: try JobStore(path: dataDirectory + "/jobs.sqlite"),
                usage: try UsageStore(path: dataDirectory + "/usage.sqlite"),
                settingsStore: try SettingsStore(path: dataDirectory + "/settings.sqlite"),
                submitBroker: broker(submitClient), streamBroker: broker(streamClient),
                plans: PlanGate(authURL: settings.authURL, internalToken: token, client: coreClient, ttl: settings.planCacheTTL),
                models: models, metrics: metrics, logger: context.logger)
        } catch {
            let reason = String(describing: error)
            context.logger.error("api-core storage unavailable", ["error": .string(reason)])
            return ServiceParts(
                readiness: [.dataDirectoryWritable(dataDirectory), ReadinessCheck(name: "database") { "cannot open: \(reason.prefix(200))" }],
                onShutdown: shutdownClients)
        }

        let verifier = AccessTokenVerifier(
            jwksURL: settings.authURL + "/.well-known/jwks.json", client: coreClient,
            configuration: .init(issuer: settings.issuer, audience: settings.audience))
        let introspector = APIKeyIntrospector(
            authURL: settings.authURL, internalToken: token, client: coreClient, cacheTTL: settings.apiKeyCacheTTL)
        let authentication = AuthenticationMiddleware(
            protectedPrefixes: ["/v1/"], authenticate: Self.authenticator(verifier: verifier, introspector: introspector))

        var router = Router()
        api.register(into: &router)

        let consumerBroker = BrokerClient(baseURL: settings.queueBrokerURL, internalToken: token, client: consumerClient)
        // Not a readiness check on purpose: settings, job reads and usage must keep serving while
        // queue-broker is away (that is the bulkhead); submissions answer 503 `queue_unavailable`.
        let queuesReady = Atomic<Bool>(false)
        _ = try context.metrics.callbackGauge(
            "api_queues_declared", help: "Whether api-core's queues are declared on queue-broker (job submission needs them)."
        ) { queuesReady.load(ordering: .relaxed) ? 1 : 0 }
        let queues = QueueSetup(broker: consumerBroker, logger: context.logger)
        let (jobs, usage, logger) = (api.jobs, api.usage, context.logger)
        let updates = QueueConsumer<AIJobUpdate>(queue: AIJobContract.updateQueue, broker: consumerBroker, logger: logger, metrics: metrics) { batch in
            let now = Timestamps.nowMillis()
            let changed = try await BlockingWork.run { try batch.map { try jobs.apply($0, now: now) } }
            for status in changed.compactMap({ $0 }) where status.isTerminal { metrics.finished.labels(status.rawValue).inc() }
        }
        let reaper = JobReaper(broker: consumerBroker, jobs: jobs, metrics: metrics, logger: logger, interval: settings.jobReaperInterval)
        let records = QueueConsumer<UsageRecord>(queue: AIJobContract.usageQueue, broker: consumerBroker, logger: logger, metrics: metrics) { batch in
            _ = try await BlockingWork.run { try usage.insert(batch) }
        }
        return ServiceParts(
            router: router,
            middleware: [authentication],
            readiness: [
                .dataDirectoryWritable(dataDirectory),
                ReadinessCheck(name: "database") {
                    do {
                        _ = try jobs.database.query("SELECT 1")
                        return nil
                    } catch { return "query failed: \(error)" }
                },
            ],
            background: [
                {
                    await queues.declare()
                    queuesReady.store(true, ordering: .relaxed)
                    try await withThrowingDiscardingTaskGroup { group in
                        group.addTask { try await updates.run() }
                        group.addTask { try await records.run() }
                    }
                },
                { try await reaper.run() },
                { await models?.run() },
                {
                    while !Task.isCancelled {
                        try await Task.sleep(for: .seconds(3600))
                        try? await BlockingWork.run { try jobs.sweep(now: Timestamps.nowMillis()) }
                    }
                },
            ],
            onShutdown: { [settingsLane = api.settingsLane] in
                await shutdownClients()
                settingsLane.stop()
            })
    }

    /// Bearer access tokens and API keys (`BulkheadAuthenticator`), plus `?access_token=` on
    /// `/v1/stream` only, because browsers cannot set headers on a WebSocket. The access log
    /// prints the path without the query, so the token never reaches the logs.
    static func authenticator(verifier: AccessTokenVerifier, introspector: APIKeyIntrospector) -> AuthenticationMiddleware.Authenticator {
        let standard = BulkheadAuthenticator.make(verifier: verifier, introspector: introspector)
        return { request in
            if let principal = try await standard(request) { return principal }
            guard request.path == "/v1/stream", let token = request.queryParameters["access_token"], !token.isEmpty else { return nil }
            do {
                return token.hasPrefix("bk_") ? try await introspector.principal(for: token) : try await verifier.principal(for: token)
            } catch let error as TokenVerificationError {
                throw error.httpError
            }
        }
    }
}

/// Declares the three queues at start (idempotent `PUT`s), retrying until queue-broker answers.
struct QueueSetup: Sendable {
    let broker: BrokerClient
    let logger: Logger

    static let declarations: [(String, [String: Int])] = [
        (AIJobContract.jobQueue, AIJobContract.jobQueueSettings),
        (AIJobContract.updateQueue, ["visibility_timeout_seconds": 30, "max_receives": 10]),
        (AIJobContract.usageQueue, ["visibility_timeout_seconds": 30, "max_receives": 10]),
    ]

    func declare() async {
        var backoff: Duration = .milliseconds(100)
        var warned = false
        for (name, settings) in Self.declarations {
            while !Task.isCancelled {
                do {
                    try await broker.putQueue(name, settings: settings)
                    break
                } catch {
                    if !warned { logger.warning("queue-broker not reachable yet; retrying", ["queue": .string(name), "error": .string("\(error)")]) }
                    warned = true
                    try? await Task.sleep(for: backoff)
                    backoff = min(backoff * 2, .seconds(5))
                }
            }
        }
        if warned { logger.info("queues declared on queue-broker") }
    }
}
