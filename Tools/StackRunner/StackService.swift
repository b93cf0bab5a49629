/// One of the seven services the stack runner starts: its executable, where its port sits
/// relative to the base port, and the variable that tells the other services its URL.
public struct StackService: Sendable, Hashable, CustomStringConvertible {
    /// The executable's name, also the service's name (`api-core`).
    public let name: String
    /// Its port is `basePort + portOffset` (8080 + offset by default).
    public let portOffset: Int
    /// The environment variable carrying its URL to every child (`API_CORE_URL`).
    public let urlVariable: String

    public init(name: String, portOffset: Int, urlVariable: String) {
        self.name = name
        self.portOffset = portOffset
        self.urlVariable = urlVariable
    }

    public var description: String { name }

    /// Its port for a given base port.
    public func port(basePort: Int) -> Int { basePort + portOffset }

    /// `http://127.0.0.1:<port>`: services always bind the loopback address.
    public func url(basePort: Int) -> String { "http://127.0.0.1:\(port(basePort: basePort))" }

    public static let apiCore = StackService(name: "api-core", portOffset: 0, urlVariable: "API_CORE_URL")
    public static let auth = StackService(name: "auth", portOffset: 1, urlVariable: "AUTH_URL")
    public static let inferenceGateway = StackService(name: "inference-gateway", portOffset: 2, urlVariable: "GATEWAY_URL")
    public static let queueBroker = StackService(name: "queue-broker", portOffset: 3, urlVariable: "QUEUE_BROKER_URL")
    public static let cache = StackService(name: "cache", portOffset: 4, urlVariable: "CACHE_URL")
    public static let metrics = StackService(name: "metrics", portOffset: 5, urlVariable: "METRICS_URL")
    public static let autoscaler = StackService(name: "autoscaler", portOffset: 6, urlVariable: "AUTOSCALER_URL")

    /// Every service, in port order (8080...8086).
    public static let all: [StackService] = [apiCore, auth, inferenceGateway, queueBroker, cache, metrics, autoscaler]
}
