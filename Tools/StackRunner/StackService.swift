/// One of the processes the stack runner starts (the seven services and the AI job worker): its
/// executable, where its port sits relative to the base port, and the variable that tells the
/// other services its URL.
public struct StackService: Sendable, Hashable, CustomStringConvertible {
    /// The process's name (`api-core`, `inference-worker`), also its data folder's name.
    public let name: String
    /// The executable's name; the service's name unless one executable runs in several roles.
    public let executable: String
    /// Its port is `basePort + portOffset` (8080 + offset by default).
    public let portOffset: Int
    /// The environment variable carrying its URL to every child (`API_CORE_URL`).
    public let urlVariable: String
    /// Settings only this process gets (the worker's `GATEWAY_MODE=worker`).
    public let extraEnvironment: [String: String]
    /// Whether it serves AI work (the gateway, the worker, their broker and cache): on one
    /// machine such processes run below the core services' CPU priority (`ChildEnvironment`).
    public let isAITier: Bool

    public init(
        name: String, executable: String? = nil, portOffset: Int, urlVariable: String, extraEnvironment: [String: String] = [:],
        isAITier: Bool = false
    ) {
        self.name = name
        self.executable = executable ?? name
        self.portOffset = portOffset
        self.urlVariable = urlVariable
        self.extraEnvironment = extraEnvironment
        self.isAITier = isAITier
    }

    public var description: String { name }

    /// Its port for a given base port.
    public func port(basePort: Int) -> Int { basePort + portOffset }

    /// `http://127.0.0.1:<port>`: services always bind the loopback address.
    public func url(basePort: Int) -> String { "http://127.0.0.1:\(port(basePort: basePort))" }

    public static let apiCore = StackService(name: "api-core", portOffset: 0, urlVariable: "API_CORE_URL")
    public static let auth = StackService(name: "auth", portOffset: 1, urlVariable: "AUTH_URL")
    public static let inferenceGateway = StackService(name: "inference-gateway", portOffset: 2, urlVariable: "GATEWAY_URL", isAITier: true)
    public static let queueBroker = StackService(name: "queue-broker", portOffset: 3, urlVariable: "QUEUE_BROKER_URL", isAITier: true)
    public static let cache = StackService(name: "cache", portOffset: 4, urlVariable: "CACHE_URL", isAITier: true)
    public static let metrics = StackService(name: "metrics", portOffset: 5, urlVariable: "METRICS_URL")
    public static let autoscaler = StackService(name: "autoscaler", portOffset: 6, urlVariable: "AUTOSCALER_URL")

    /// The inference-gateway executable in worker mode: drains api-core's AI job queue.
    public static let inferenceWorker = StackService(
        name: "inference-worker", executable: "inference-gateway", portOffset: 7, urlVariable: "GATEWAY_WORKER_URL",
        extraEnvironment: ["GATEWAY_MODE": "worker"], isAITier: true)

    /// Every process, in port order (8080...8087).
    public static let all: [StackService] = [apiCore, auth, inferenceGateway, queueBroker, cache, metrics, autoscaler, inferenceWorker]
}
