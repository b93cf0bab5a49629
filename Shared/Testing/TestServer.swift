import BulkheadHTTP
import BulkheadObservability

/// Starts an `HTTPServer` with a router on 127.0.0.1, port 0, runs `body`, then shuts it down.
///
/// ```swift
/// try await withTestServer(router) { server in
///     let c = try RawConnection(port: server.port)
/// }
/// ```
public func withTestServer<T>(
    _ router: Router, middleware: [any HTTPMiddleware] = [], configure: (inout HTTPServerConfiguration) -> Void = { _ in },
    _ body: (HTTPServer) async throws -> T
) async throws -> T {
    var config = HTTPServerConfiguration()
    config.host = "127.0.0.1"
    config.port = 0
    config.loopCount = 2
    configure(&config)
    let app = HTTPApplication(
        router: router, middleware: middleware, logger: Logger(service: "test", minimumLevel: .warning),
        defaultBodyLimit: config.defaultMaxBodyBytes, accessLog: false)
    let server = try HTTPServer(configuration: config, responder: app)
    try server.start()
    do {
        let result = try await body(server)
        await server.shutdown(gracePeriod: .seconds(2))
        return result
    } catch {
        await server.shutdown(gracePeriod: .seconds(2))
        throw error
    }
}
