import BulkheadHTTP
import BulkheadService

/// metrics: scrapes every service, stores time series, answers queries.
/// The scaffolding gives it `/healthz`, `/readyz`, `/metrics`, logs and shutdown; its domain
/// routes arrive with its own issue.
public enum MetricsService: ServiceDefinition {
    public static let name = "metrics"
    public static let defaultPort = 8085

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(readiness: [.dataDirectoryWritable(context.configuration.dataDirectory)])
    }
}
