import BulkheadHTTP
import BulkheadService

/// queue-broker: durable work queues and replayable event streams.
/// The scaffolding gives it `/healthz`, `/readyz`, `/metrics`, logs and shutdown; its domain
/// routes arrive with its own issue.
public enum QueueBrokerService: ServiceDefinition {
    public static let name = "queue-broker"
    public static let defaultPort = 8083

    public static func build(_ context: ServiceContext) async throws -> ServiceParts {
        ServiceParts(readiness: [.dataDirectoryWritable(context.configuration.dataDirectory)])
    }
}
