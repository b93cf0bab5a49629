import BulkheadHTTP
import BulkheadService

/// The gateway's tenancy layer: authentication, limits and budgets, cache, usage, AI metrics.
/// (Owned by the tenancy work; this is its starting shape.)
public struct Tenancy: Sendable {
    /// Applied to every route (authentication on `/v1/`).
    public var middleware: [any HTTPMiddleware]
    public var hooks: any InferenceHooks
    public var readiness: [ReadinessCheck]
    public var background: [@Sendable () async throws -> Void]
    public var onShutdown: [@Sendable () async -> Void]

    /// Reads the tenancy settings from `context.environment`. `localModels` embeds conversations
    /// for the semantic cache in-process.
    public static func make(_ context: ServiceContext, localModels: LocalProvider) async throws -> Tenancy {
        Tenancy(middleware: [], hooks: OpenHooks(), readiness: [], background: [], onShutdown: [])
    }
}
