import BulkheadHTTP
import BulkheadService

/// autoscaler: scales inference workers on AI signals.
/// The scaffolding gives it `/healthz`, `/readyz`, `/metrics`, logs and shutdown; its domain
/// routes arrive with its own issue.
public enum AutoscalerService: ServiceDefinition {
    public static let name = "autoscaler"
    public static let defaultPort = 8086

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(readiness: [.dataDirectoryWritable(context.configuration.dataDirectory)])
    }
}
