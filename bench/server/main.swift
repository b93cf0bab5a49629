import BulkheadHTTP
import BulkheadObservability
#if canImport(Glibc)
import Glibc
#endif

// The benchmark target: our full server stack (router, middleware chain, metrics) on two routes
// with the same bodies nginx serves in bench/run. Access logs are off, as they are for nginx there.
let env = Environment()
var config = HTTPServerConfiguration()
config.host = env.string("HOST", default: "127.0.0.1")
config.port = env.int("PORT", default: 8090)
config.loopCount = env.int("LOOP_THREADS", default: HTTPServerConfiguration.coreCount)
config.maxConnections = 100_000

let plaintext = Array("Hello, World!".utf8)
var router = Router()
router.get("/plaintext") { _, _ in
    HTTPResponse(contentType: "text/plain", body: plaintext)
}
router.get("/json") { _, _ in
    // Encoded per request, as a JSON API would.
    let message = "Hello, World!"
    return .json(bytes: Array("{\"message\":\(JSONText.quoted(message))}".utf8))
}
let registry = MetricsRegistry()
let app = HTTPApplication(
    router: router, logger: Logger(service: "bench-server"), metrics: try HTTPMetrics(registry: registry), accessLog: false)
let server = try HTTPServer(configuration: config, responder: app)
try server.start()
print("bench-server listening on \(config.host):\(server.port) with \(config.loopCount) loops")
while true { sleep(3600) }
