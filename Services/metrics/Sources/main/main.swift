import Metrics
import BulkheadService

await ServiceMain.run(MetricsService.self)
