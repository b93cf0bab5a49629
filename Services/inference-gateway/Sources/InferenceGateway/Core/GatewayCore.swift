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

    /// Reads the core's settings from `context.environment` and builds it over `hooks`, serving
    /// the in-process models of `localModels`.
    public static func make(_ context: ServiceContext, hooks: any InferenceHooks, localModels provider: LocalProvider) async throws -> GatewayCore {
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
