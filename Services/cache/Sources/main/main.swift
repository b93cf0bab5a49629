import Cache
import BulkheadService

await ServiceMain.run(CacheService.self)
