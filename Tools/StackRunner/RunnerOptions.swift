/// Everything `bulkhead run` needs to know, after flags and environment are resolved.
public struct RunnerOptions: Sendable, Equatable {
    /// Address the ingress binds (`--host`, env `HOST`).
    public var host: String = "127.0.0.1"
    /// Ingress port (`--port`, env `PORT`); 0 picks a free one.
    public var port: Int = 8000
    /// Port of the first service (`--base-port`); the stack's processes use `basePort...basePort+7`.
    public var basePort: Int = 8080
    /// Where each service keeps its data, one folder per service (`--data-dir`, env `DATA_DIR`).
    public var dataDirectory: String = "./.data"
    /// Folder holding the service executables (`--bin-dir`); nil: next to the running `bulkhead`.
    public var binDirectory: String?
    /// How long every service gets to answer `GET /readyz` with 200 (`--ready-timeout`).
    public var readyTimeout: Duration = .seconds(60)
    /// How long children get between SIGTERM and SIGKILL at shutdown (`--stop-timeout`).
    public var stopTimeout: Duration = .seconds(15)
    /// Time allowed for an upstream to send its response head through the ingress (`--upstream-timeout`).
    public var upstreamTimeout: Duration = .seconds(120)

    public init() {}

    /// The ports the services will bind.
    public var servicePorts: ClosedRange<Int> { basePort...(basePort + StackService.all.count - 1) }
}
