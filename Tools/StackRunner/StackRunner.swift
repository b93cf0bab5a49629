import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
#if canImport(Glibc)
import Glibc
#endif

/// `bulkhead run`: the seven services and the AI job worker as supervised child processes plus the ingress.
///
/// Order of events: check binaries, data folder, internal token and ports; start the ingress;
/// spawn every service; wait for all `/readyz` (printing the endpoints table once they are);
/// supervise until a stop request; then stop the ingress, then the children in dependency order
/// (`StackStopper`: worker, api-core and gateway first, then the services they write to; SIGKILL
/// for what is left of a stage after `stopTimeout` or at a second stop request), and return 0. Startup failures
/// return 1 after stopping whatever had started.
public struct StackRunner: Sendable {
    public var options: RunnerOptions
    /// The runner's environment: read for the internal token, passed through to children.
    public var environment: [String: String]
    public var logger: Logger
    /// A `bulkhead` binary that can act as `ChildTrampoline` (nil: spawn services directly).
    public var trampoline: String?
    /// Where the endpoints table goes (standard output by default).
    public var output: @Sendable (String) -> Void = StackRunner.writeToStandardOutput
    /// Fired by signals in `bulkhead`; tests can fire it themselves.
    public var stopRequests: StopRequests

    public init(options: RunnerOptions, environment: [String: String], logger: Logger, trampoline: String?, stopRequests: StopRequests = StopRequests()) {
        self.options = options
        self.environment = environment
        self.logger = logger
        self.trampoline = trampoline
        self.stopRequests = stopRequests
    }

    /// Runs the stack until a stop request; returns the exit status.
    public func run() async -> Int32 {
        let started = ContinuousClock.now
        let services = StackService.all
        let binDirectory = options.binDirectory.map(ExecutableLocator.absolute) ?? ExecutableLocator.currentDirectory() ?? "."
        let missing = ExecutableLocator.missing(services, in: binDirectory)
        if !missing.isEmpty {
            return fail(
                "service executables missing in \(binDirectory): \(Set(missing.map(\.executable)).sorted().joined(separator: ", ")) (build them with 'swift build -c release', or pass --bin-dir)")
        }
        if let policy = environment["BULKHEAD_AI_SCHED_POLICY"], !ChildEnvironment.aiSchedulingPolicies.contains(policy) {
            return fail("BULKHEAD_AI_SCHED_POLICY: expected \(ChildEnvironment.aiSchedulingPolicies.sorted().joined(separator: ", ")), got \"\(policy)\"")
        }
        let dataDirectory = ExecutableLocator.absolute(options.dataDirectory)
        guard DataDirectory.create(dataDirectory) else { return fail("cannot create the data folder \(dataDirectory)") }
        let token: String
        do {
            token = try InternalToken.resolve(environment: environment, dataDirectory: dataDirectory)
        } catch {
            return fail(error.description)
        }
        if let conflict = portConflict() { return fail(conflict) }
        // Made before anything starts, so a failure here leaves nothing to clean up.
        let client: HTTPClient
        do {
            client = try HTTPClient()
        } catch {
            return fail("cannot create the readiness client: \(error)")
        }

        var ingressConfig = IngressConfiguration(upstreams: IngressConfiguration.upstreams(basePort: options.basePort))
        ingressConfig.host = options.host
        ingressConfig.port = options.port
        ingressConfig.upstreamTimeout = options.upstreamTimeout
        let ingress: Ingress
        do {
            ingress = try await Ingress.start(ingressConfig, logger: logger.with(["component": "ingress"]))
        } catch {
            return fail("cannot start the ingress on \(options.host):\(options.port): \(error)")
        }

        let childEnvironment = ChildEnvironment(
            inherited: environment, basePort: options.basePort, dataDirectory: dataDirectory, internalToken: token)
        let supervisors = services.map { service in
            ServiceSupervisor(
                service: service,
                launch: .init(
                    executable: binDirectory + "/" + service.executable, environment: childEnvironment.entries(for: service),
                    trampoline: trampoline),
                logger: logger)
        }
        logger.info(
            "starting stack",
            [
                "bin_dir": .string(binDirectory), "data_dir": .string(dataDirectory), "base_port": .int(options.basePort),
                "ingress": .string(ingress.url),
            ])
        for s in supervisors { s.start() }

        let stop = stopRequests
        let outcome = await ReadinessWaiter(client: client).wait(
            for: Dictionary(uniqueKeysWithValues: services.map { ($0.name, $0.url(basePort: options.basePort)) }),
            timeout: options.readyTimeout, shouldStop: { stop.count > 0 })
        await client.shutdown()

        switch outcome {
        case .ready:
            let elapsed = ServiceSupervisor.seconds(ContinuousClock.now - started)
            output(endpointsTable(supervisors, ingress: ingress).render())
            output("\nStack ready in \(elapsed)s. Ingress: \(ingress.url)  (Ctrl-C to stop)\n")
            logger.info("stack ready", ["ingress": .string(ingress.url), "seconds": .double(elapsed)])
            await stop.wait(atLeast: 1)
            await shutdown(ingress: ingress, supervisors: supervisors)
            return 0
        case .stopped:
            await shutdown(ingress: ingress, supervisors: supervisors)
            return 0
        case .timedOut(let notReady):
            for s in supervisors {
                guard let reason = notReady[s.service.name] else { continue }
                logger.error(
                    "service not ready", ["child": .string(s.service.name), "reason": .string(reason), "process": .string(s.summary)])
            }
            let names = supervisors.map(\.service.name).filter { notReady[$0] != nil }
            logger.error(
                "stack did not become ready",
                ["timeout_s": .double(ServiceSupervisor.seconds(options.readyTimeout)), "not_ready": .string(names.joined(separator: ", "))])
            await shutdown(ingress: ingress, supervisors: supervisors)
            return 1
        }
    }

    /// Stops the ingress, then the children in dependency order (`StackStopper`): SIGTERM, then
    /// SIGKILL for a stage that is not done after `stopTimeout` or at a second stop request.
    ///
    /// The ingress stops accepting at once; its in-flight requests get up to a second on their
    /// own before the children are told to stop (each service drains its in-flight requests on
    /// SIGTERM, and ends its streams, which then end through the ingress too).
    func shutdown(ingress: Ingress, supervisors: [ServiceSupervisor]) async {
        logger.info("stopping stack", ["stop_timeout_s": .double(ServiceSupervisor.seconds(options.stopTimeout))])
        let ingressDone = CompletionFlag()
        let ingressStop = Task {
            await ingress.shutdown(gracePeriod: .seconds(5))
            ingressDone.set()
        }
        let headStart = ContinuousClock.now + .seconds(1)
        while !ingressDone.isSet && ContinuousClock.now < headStart && stopRequests.count < 2 {
            await ChildProcess.sleep(.milliseconds(10))
        }
        // Writers first (worker, api-core, gateway), then what they write to: see `StackStopper`.
        await StackStopper(stopTimeout: options.stopTimeout, logger: logger, stopRequests: stopRequests).stop(supervisors)
        await ingressStop.value
        logger.info("stack stopped")
    }

    /// A message naming every port that is already taken, or nil.
    func portConflict() -> String? {
        var busy: [String] = []
        if options.port != 0 && !PortCheck.isFree(host: options.host, port: options.port) {
            busy.append("\(options.port) (ingress)")
        }
        for service in StackService.all where !PortCheck.isFree(host: "127.0.0.1", port: service.port(basePort: options.basePort)) {
            busy.append("\(service.port(basePort: options.basePort)) (\(service.name))")
        }
        guard !busy.isEmpty else { return nil }
        return "ports already in use: \(busy.joined(separator: ", ")); is another stack running? Use --base-port and --port to run a second one"
    }

    func endpointsTable(_ supervisors: [ServiceSupervisor], ingress: Ingress) -> EndpointsTable {
        var rows = supervisors.map {
            EndpointsTable.Row(service: $0.service.name, url: $0.service.url(basePort: options.basePort), pid: $0.pid)
        }
        rows.append(EndpointsTable.Row(service: "ingress", url: ingress.url, pid: getpid()))
        return EndpointsTable(rows: rows)
    }

    private func fail(_ message: String) -> Int32 {
        logger.error(message)
        return 1
    }

    /// Writes `text` to fd 1 at once (no stdio buffering, so it shows even when piped).
    public static let writeToStandardOutput: @Sendable (String) -> Void = { text in
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            bytes = bytes.dropFirst(n)
        }
    }
}
