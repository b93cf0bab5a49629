/// The environment each service process gets: the runner's own, with the stack's settings on top.
public struct ChildEnvironment: Sendable {
    /// The runner's environment, passed through.
    public var inherited: [String: String]
    public var basePort: Int
    /// Absolute data folder of the stack; each service gets `<dataDirectory>/<name>`.
    public var dataDirectory: String
    public var internalToken: String

    public init(inherited: [String: String], basePort: Int, dataDirectory: String, internalToken: String) {
        self.inherited = inherited
        self.basePort = basePort
        self.dataDirectory = dataDirectory
        self.internalToken = internalToken
    }

    /// Variables for `service`: `HOST`, `PORT`, `DATA_DIR`, `BULKHEAD_INTERNAL_TOKEN` and every
    /// service's URL variable override whatever the runner's environment had.
    public func variables(for service: StackService) -> [String: String] {
        var env = inherited
        env["HOST"] = "127.0.0.1"
        env["PORT"] = String(service.port(basePort: basePort))
        env["DATA_DIR"] = dataDirectory.hasSuffix("/") ? dataDirectory + service.name : dataDirectory + "/" + service.name
        env["BULKHEAD_INTERNAL_TOKEN"] = internalToken
        for other in StackService.all { env[other.urlVariable] = other.url(basePort: basePort) }
        // CPU priority is the stack's to set per process, never inherited as is.
        env["BULKHEAD_SCHED_POLICY"] = nil
        env["BULKHEAD_NICE"] = nil
        if service.isAITier {
            env["BULKHEAD_SCHED_POLICY"] = inherited["BULKHEAD_AI_SCHED_POLICY"] ?? Self.aiSchedulingPolicy
            env["BULKHEAD_NICE"] = Self.aiNice
        }
        for (key, value) in service.extraEnvironment { env[key] = value }
        return env
    }

    /// The AI tier's scheduling class on one machine (`BULKHEAD_AI_SCHED_POLICY` overrides it:
    /// `normal` or `batch`). Idle: a core service's thread that wakes takes the CPU from an AI
    /// process at once instead of waiting for its time slice to end, which is what kept settings'
    /// p99 within 1.5x of idle under a saturated worker (bench/api-core); AI work still gets
    /// every cycle the core leaves.
    public static let aiSchedulingPolicy = "idle"
    /// What `BULKHEAD_AI_SCHED_POLICY` may say (the runner refuses to start otherwise).
    public static let aiSchedulingPolicies: Set<String> = ["idle", "batch", "normal"]
    /// Nice of the AI tier (what counts when its policy is `normal` or `batch`).
    public static let aiNice = "10"

    /// `NAME=value` entries for `posix_spawn`, sorted for reproducibility.
    public func entries(for service: StackService) -> [String] {
        variables(for: service).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
