import BulkheadEmbeddings
import BulkheadHTTP
import BulkheadService
import Shared

/// The gateway's core: catalog, routing, providers and the OpenAI routes.
/// (Owned by the core work; this is its starting shape.)
public struct GatewayCore: Sendable {
    public var pipeline: any InferencePipeline
    public var readiness: [ReadinessCheck]
    public var background: [@Sendable () async throws -> Void]
    public var onShutdown: [@Sendable () async -> Void]
    let registerRoutes: @Sendable (inout Router) -> Void

    /// Reads the core's settings from `context.environment` and builds it over `hooks`.
    public static func make(_ context: ServiceContext, hooks: any InferenceHooks) async throws -> GatewayCore {
        let env = context.environment
        let provider = LocalProvider(
            directory: env.string(ModelDirectory.environmentVariable),
            batching: BatchingOptions(
                window: env.duration("EMBEDDINGS_BATCH_WINDOW", default: .milliseconds(2)),
                maxBatchSize: env.int("EMBEDDINGS_MAX_BATCH", default: 32, range: 1...256)))
        return GatewayCore(
            pipeline: UnavailablePipeline(), readiness: [], background: [], onShutdown: [],
            registerRoutes: { router in EmbeddingsRoutes(provider: provider).register(on: &router) })
    }

    public func register(on router: inout Router) { registerRoutes(&router) }
}

struct UnavailablePipeline: InferencePipeline {
    func chat(_ request: JSONValue, caller: Caller, onDelta: @escaping @Sendable (String) async -> Void) async throws -> PipelineResult {
        throw GatewayError(status: .notImplemented, message: "Chat is not available yet.", type: "api_error")
    }
    func embeddings(_ request: JSONValue, caller: Caller) async throws -> PipelineResult {
        throw GatewayError(status: .notImplemented, message: "Embeddings through the pipeline are not available yet.", type: "api_error")
    }
}
