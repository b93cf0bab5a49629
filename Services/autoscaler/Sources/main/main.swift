import Autoscaler
import BulkheadService

await ServiceMain.run(AutoscalerService.self)
