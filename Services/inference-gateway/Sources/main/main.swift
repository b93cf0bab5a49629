import InferenceGateway
import BulkheadService

await ServiceMain.run(InferenceGatewayService.self)
