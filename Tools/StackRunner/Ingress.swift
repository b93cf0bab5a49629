import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability

/// The public entry point of the stack: an `HTTPServer` running `IngressProxy`, plus the
/// `HTTPClient` it forwards with. Tests start one on port 0 in front of their own upstreams.
///
/// ```swift
/// var config = IngressConfiguration(upstreams: IngressConfiguration.upstreams(basePort: 8080))
/// config.port = 8000
/// let ingress = try Ingress.start(config, logger: Logger(service: "bulkhead"))
/// ...
/// await ingress.shutdown()
/// ```
public final class Ingress: Sendable {
    public let configuration: IngressConfiguration
    let server: HTTPServer
    let client: HTTPClient
    let proxy: IngressProxy

    private init(configuration: IngressConfiguration, server: HTTPServer, client: HTTPClient, proxy: IngressProxy) {
        self.configuration = configuration
        self.server = server
        self.client = client
        self.proxy = proxy
    }

    /// Binds and starts serving; throws when the address cannot be bound.
    public static func start(_ configuration: IngressConfiguration, logger: Logger) async throws -> Ingress {
        var clientConfig = HTTPClient.Configuration()
        clientConfig.connectTimeout = configuration.connectTimeout
        clientConfig.requestTimeout = nil
        clientConfig.maxConnectionsPerHost = configuration.maxConnectionsPerUpstream
        // Below the services' 60 s idle timeout, so a pooled connection is not reused just as the upstream closes it.
        clientConfig.idleTimeout = .seconds(30)
        clientConfig.userAgent = nil  // forward the client's own, or none
        clientConfig.threadName = "ingress-client"
        let client = try HTTPClient(configuration: clientConfig)

        var serverConfig = HTTPServerConfiguration()
        serverConfig.host = configuration.host
        serverConfig.port = configuration.port
        serverConfig.loopCount = max(1, configuration.loopCount)
        serverConfig.defaultMaxBodyBytes = configuration.maxBodyBytes
        serverConfig.serverName = nil  // the upstream's Server header passes through
        let proxy = IngressProxy(configuration: configuration, client: client, logger: logger)
        do {
            let server = try HTTPServer(configuration: serverConfig, responder: proxy)
            try server.start()
            return Ingress(configuration: configuration, server: server, client: client, proxy: proxy)
        } catch {
            await client.shutdown()
            throw error
        }
    }

    /// The bound port.
    public var port: Int { server.port }

    /// `http://host:port` as bound (IPv6 hosts bracketed).
    public var url: String {
        let host = configuration.host.contains(":") ? "[\(configuration.host)]" : configuration.host
        return "http://\(host):\(port)"
    }

    /// WebSocket connections being relayed right now.
    public var webSocketCount: Int { proxy.webSocketCount }

    /// Stops accepting, lets in-flight requests finish (up to `gracePeriod`), ends open
    /// streams (relayed WebSockets get 1001 both ways), then closes the upstream connections.
    public func shutdown(gracePeriod: Duration = .seconds(5)) async {
        await server.shutdown(gracePeriod: gracePeriod)
        proxy.relays.abortAll()
        await client.shutdown()
    }
}
