import APICore
import BulkheadService

await ServiceMain.run(APICoreService.self)
