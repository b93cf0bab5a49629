import QueueBroker
import BulkheadService

await ServiceMain.run(QueueBrokerService.self)
