import BulkheadHTTP
import BulkheadService

/// auth: tenants, users, signed access tokens, API keys, plans and quotas.
/// The scaffolding gives it `/healthz`, `/readyz`, `/metrics`, logs and shutdown; its domain
/// routes arrive with its own issue.
public enum AuthService: ServiceDefinition {
    public static let name = "auth"
    public static let defaultPort = 8081

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(readiness: [.dataDirectoryWritable(context.configuration.dataDirectory)])
    }
}
