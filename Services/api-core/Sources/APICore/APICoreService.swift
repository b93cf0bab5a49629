import BulkheadHTTP
import BulkheadService

/// api-core: the SaaS core: settings, AI job submission, live results, usage.
/// The scaffolding gives it `/healthz`, `/readyz`, `/metrics`, logs and shutdown; its domain
/// routes arrive with its own issue.
public enum APICoreService: ServiceDefinition {
    public static let name = "api-core"
    public static let defaultPort = 8080

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(readiness: [.dataDirectoryWritable(context.configuration.dataDirectory)])
    }
}
