import Auth
import BulkheadService

await ServiceMain.run(AuthService.self)
