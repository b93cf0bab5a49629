import BulkheadService

/// Worker mode: consumes AI jobs from queue-broker and runs them through the pipeline.
/// (Owned by the tenancy/worker work; this is its starting shape.)
public struct JobWorker: Sendable {
    public var readiness: [ReadinessCheck]
    public var background: [@Sendable () async throws -> Void]
    public var onShutdown: [@Sendable () async -> Void]

    public static func make(_ context: ServiceContext, pipeline: any InferencePipeline, tenancy: Tenancy) async throws -> JobWorker {
        JobWorker(readiness: [], background: [], onShutdown: [])
    }
}
