import BulkheadObservability
import StackRunner

/// Starts an ingress on 127.0.0.1, port 0, in front of `upstreams`, runs `body`, shuts it down.
func withIngress<T>(
    upstreams: [IngressUpstream: String], configure: (inout IngressConfiguration) -> Void = { _ in },
    _ body: (Ingress) async throws -> T
) async throws -> T {
    var config = IngressConfiguration(upstreams: upstreams)
    config.port = 0
    config.loopCount = 2
    config.accessLog = false
    configure(&config)
    let ingress = try await Ingress.start(config, logger: Logger(service: "ingress-test", minimumLevel: .error))
    do {
        let result = try await body(ingress)
        await ingress.shutdown(gracePeriod: .seconds(1))
        return result
    } catch {
        await ingress.shutdown(gracePeriod: .seconds(1))
        throw error
    }
}
