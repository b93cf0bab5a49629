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
        for (key, value) in service.extraEnvironment { env[key] = value }
        return env
    }

    /// `NAME=value` entries for `posix_spawn`, sorted for reproducibility.
    public func entries(for service: StackService) -> [String] {
        variables(for: service).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    }
}
