import BulkheadService
import Glibc
import InferenceGateway

// `--worker` is `GATEWAY_MODE=worker`: the same executable consumes AI jobs instead of serving the API.
if CommandLine.arguments.dropFirst().contains("--worker") { setenv("GATEWAY_MODE", "worker", 1) }
await ServiceMain.run(InferenceGatewayService.self)
