import BulkheadHTTP
import BulkheadService

/// cache: exact and semantic cache of AI responses, and global counters.
/// The scaffolding gives it `/healthz`, `/readyz`, `/metrics`, logs and shutdown; its domain
/// routes arrive with its own issue.
public enum CacheService: ServiceDefinition {
    public static let name = "cache"
    public static let defaultPort = 8084

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(readiness: [.dataDirectoryWritable(context.configuration.dataDirectory)])
    }
}
