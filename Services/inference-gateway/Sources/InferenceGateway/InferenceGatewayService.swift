import BulkheadHTTP
import BulkheadService

/// inference-gateway: the OpenAI-compatible AI tier over every provider, and the job worker.
/// The scaffolding gives it `/healthz`, `/readyz`, `/metrics`, logs and shutdown; its domain
/// routes arrive with its own issue.
public enum InferenceGatewayService: ServiceDefinition {
    public static let name = "inference-gateway"
    public static let defaultPort = 8082

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(readiness: [.dataDirectoryWritable(context.configuration.dataDirectory)])
    }
}
