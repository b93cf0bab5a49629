import BulkheadEmbeddings
import BulkheadHTTP
import BulkheadService

/// inference-gateway: the OpenAI-compatible AI tier over every provider, and the job worker.
///
/// `GATEWAY_MODE`: `api` (default) serves the OpenAI routes; `worker` consumes AI jobs from
/// queue-broker (and serves only health, readiness and metrics); `both` does both. The
/// executable's `--worker` flag is the same as `GATEWAY_MODE=worker`.
public enum InferenceGatewayService: ServiceDefinition {
    public static let name = "inference-gateway"
    public static let defaultPort = 8082

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        let env = context.environment
        let mode = env.string("GATEWAY_MODE", default: "api")
        let servesAPI = mode == "api" || mode == "both"
        let runsWorker = mode == "worker" || mode == "both"
        if !servesAPI && !runsWorker {
            env.recordProblem("GATEWAY_MODE must be api, worker or both, got '\(mode)'")
        }

        // One copy of the local models serves both the API and the cache's embeddings.
        let localModels = LocalProvider(
            directory: env.string(ModelDirectory.environmentVariable),
            batching: BatchingOptions(
                window: env.duration("EMBEDDINGS_BATCH_WINDOW", default: .milliseconds(2)),
                maxBatchSize: env.int("EMBEDDINGS_MAX_BATCH", default: 32, range: 1...256)))
        let tenancy = try await Tenancy.make(context, localModels: localModels)
        let core = try await GatewayCore.make(context, hooks: tenancy.hooks, localModels: localModels)

        var router = Router()
        if servesAPI { core.register(on: &router) }
        var readiness: [ReadinessCheck] = [.dataDirectoryWritable(context.configuration.dataDirectory)]
        readiness += tenancy.readiness + core.readiness
        var background = tenancy.background + core.background
        var onShutdown = tenancy.onShutdown + core.onShutdown
        if runsWorker {
            let worker = try await JobWorker.make(context, pipeline: core.pipeline, tenancy: tenancy)
            readiness += worker.readiness
            background += worker.background
            // Drain the worker first: it still needs the core and tenancy while it finishes jobs.
            onShutdown = worker.onShutdown + onShutdown
        }
        let shutdownSteps = onShutdown
        return ServiceParts(
            router: router, middleware: servesAPI ? tenancy.middleware : [], readiness: readiness,
            background: background,
            onShutdown: { for step in shutdownSteps { await step() } },
            connectionErrorRenderer: { head, status, code, message in
                // OpenAI clients parse every error under /v1/ in OpenAI's shape, including the
                // ones the connection layer answers before any middleware runs (413, 408...).
                guard let head, head.path.hasPrefix("/v1/") else { return nil }
                return GatewayError(status: status, message: message, type: OpenAIErrorShapeMiddleware.type(for: status.code), code: code)
                    .bodyBytes
            })
    }
}
