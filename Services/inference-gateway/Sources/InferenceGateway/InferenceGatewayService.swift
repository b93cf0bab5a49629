import BulkheadEmbeddings
import BulkheadHTTP
import BulkheadService

/// inference-gateway: the OpenAI-compatible AI tier over every provider, and the job worker.
/// Today it serves the `local` provider's embedding models (`/v1/embeddings`, `/v1/models`);
/// auth, the catalogue, routing and remote providers arrive with the gateway issue.
public enum InferenceGatewayService: ServiceDefinition {
    public static let name = "inference-gateway"
    public static let defaultPort = 8082

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        let env = context.environment
        let directory = env.string(ModelDirectory.environmentVariable)
        let preload = env.bool("LOCAL_MODELS_PRELOAD", default: false)
        let window = env.duration("EMBEDDINGS_BATCH_WINDOW", default: .milliseconds(2))
        let maxBatch = env.int("EMBEDDINGS_MAX_BATCH", default: 32, range: 1...256)
        let provider = LocalProvider(directory: directory, batching: BatchingOptions(window: window, maxBatchSize: maxBatch))

        var router = Router()
        EmbeddingsRoutes(provider: provider).register(on: &router)

        var readiness: [ReadinessCheck] = [.dataDirectoryWritable(context.configuration.dataDirectory)]
        var background: [@Sendable () async throws -> Void] = []
        if preload {
            // Loading takes a moment; serve health meanwhile and report readiness once loaded.
            readiness.append(ReadinessCheck(name: "local_models") { await provider.readinessProblem() })
            let logger = context.logger
            background.append {
                if let problem = await provider.preload() {
                    logger.error("local model preload failed: \(problem)")
                }
            }
        }
        return ServiceParts(router: router, readiness: readiness, background: background)
    }
}
