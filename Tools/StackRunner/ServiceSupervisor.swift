import BulkheadObservability
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps one service process running: starts it, and when it exits without being asked to,
/// logs a `restarting service` line and starts it again after a `RestartBackoff` delay.
///
/// `beginStop()` sends SIGTERM and ends the supervision once the child exits; `kill()`
/// sends SIGKILL (the runner does after its stop timeout).
public final class ServiceSupervisor: Sendable {
    /// How to start the service.
    public struct Launch: Sendable {
        public var executable: String
        /// `NAME=value` entries.
        public var environment: [String]
        /// A `bulkhead` binary to start the service through (see `ChildTrampoline`), or nil to spawn it directly.
        public var trampoline: String?
        public init(executable: String, environment: [String], trampoline: String?) {
            self.executable = executable
            self.environment = environment
            self.trampoline = trampoline
        }
    }

    private struct State {
        var child: ChildProcess?
        var stopping = false
        var finished = false
        var restarts = 0
        var lastExit: ExitStatus?
        var lastSpawnError: String?
    }

    public let service: StackService
    let launch: Launch
    let logger: Logger
    let backoffTemplate: RestartBackoff
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(service: StackService, launch: Launch, logger: Logger, backoff: RestartBackoff = RestartBackoff()) {
        self.service = service
        self.launch = launch
        self.logger = logger.with(["child": .string(service.name)])
        backoffTemplate = backoff
    }

    /// Starts supervising (spawns the first process right away).
    public func start() {
        task.withLock { t in
            guard t == nil else { return }
            t = Task { await self.supervise() }
        }
    }

    /// The running child's pid, if one runs.
    public var pid: pid_t? { state.withLock { $0.child?.pid } }
    /// How many times the child was restarted.
    public var restarts: Int { state.withLock { $0.restarts } }
    /// True once supervision ended after a stop.
    public var isFinished: Bool { state.withLock { $0.finished } }

    /// A short account of the process for reports ("running as pid 42", "exited with status 1, restarted 3 times").
    public var summary: String {
        state.withLock { s in
            var parts: [String] = []
            if let child = s.child { parts.append("running as pid \(child.pid)") } else { parts.append("not running") }
            if let error = s.lastSpawnError { parts.append(error) } else if let exit = s.lastExit { parts.append("last \(exit)") }
            if s.restarts > 0 { parts.append("restarted \(s.restarts) time\(s.restarts == 1 ? "" : "s")") }
            return parts.joined(separator: ", ")
        }
    }

    /// Stops restarting and sends SIGTERM to the child.
    public func beginStop() {
        let child = state.withLock { s -> ChildProcess? in
            s.stopping = true
            return s.child
        }
        child?.send(SIGTERM)
    }

    /// SIGKILL to the child (after a stop that took too long).
    public func kill() {
        state.withLock { $0.child }?.send(SIGKILL)
    }

    /// Returns once supervision has ended (after `beginStop()`).
    public func waitUntilFinished() async {
        let t = task.withLock { $0 }
        await t?.value
    }

    private var isStopping: Bool { state.withLock { $0.stopping } }

    private func supervise() async {
        var backoff = backoffTemplate
        while !isStopping {
            var uptime = Duration.zero
            if let child = await spawn() {
                let stopNow = state.withLock { s -> Bool in
                    s.child = child
                    s.lastSpawnError = nil
                    return s.stopping
                }
                if stopNow { child.send(SIGTERM) }
                logger.info("service started", ["pid": .int(Int(child.pid)), "executable": .string(launch.executable)])
                let status = await child.waitForExit()
                uptime = ContinuousClock.now - child.startedAt
                let stopping = state.withLock { s -> Bool in
                    s.child = nil
                    s.lastExit = status
                    return s.stopping
                }
                if stopping {
                    logger.info("service stopped", ["pid": .int(Int(child.pid)), status.logFields.key: .int(status.logFields.value)])
                    break
                }
                let delay = backoff.delay(afterRunningFor: uptime)
                let count = state.withLock { s -> Int in
                    s.restarts += 1
                    return s.restarts
                }
                logger.warning(
                    "restarting service",
                    [
                        "pid": .int(Int(child.pid)), status.logFields.key: .int(status.logFields.value),
                        "uptime_s": .double(Self.seconds(uptime)), "delay_ms": .int(Int(Self.seconds(delay) * 1000)), "restarts": .int(count),
                    ])
                await pause(delay)
            } else {
                let delay = backoff.delay(afterRunningFor: uptime)
                let count = state.withLock { s -> Int in
                    s.restarts += 1
                    return s.restarts
                }
                logger.warning("restarting service", ["delay_ms": .int(Int(Self.seconds(delay) * 1000)), "restarts": .int(count)])
                await pause(delay)
            }
        }
        state.withLock { $0.finished = true }
    }

    /// Starts a process; nil (with the error logged and kept for the summary) when it cannot start.
    private func spawn() async -> ChildProcess? {
        let arguments: [String]
        let path: String
        if let trampoline = launch.trampoline {
            path = trampoline
            arguments = ChildTrampoline.arguments(trampoline: trampoline, executable: launch.executable, parent: getpid())
        } else {
            path = launch.executable
            arguments = [launch.executable]
        }
        do {
            let pid = try await ProcessSpawner.shared.spawn(
                ProcessSpawner.Request(executable: path, arguments: arguments, environment: launch.environment))
            return ChildProcess(pid: pid, executable: launch.executable)
        } catch {
            let message = String(describing: error)
            state.withLock { $0.lastSpawnError = message }
            logger.error("service failed to start", ["error": .string(message)])
            return nil
        }
    }

    /// Sleeps `delay`, waking early when a stop begins.
    private func pause(_ delay: Duration) async {
        let deadline = ContinuousClock.now + delay
        while !isStopping && ContinuousClock.now < deadline {
            await ChildProcess.sleep(min(.milliseconds(50), deadline - ContinuousClock.now))
        }
    }

    static func seconds(_ d: Duration) -> Double {
        let c = d.components
        return ((Double(c.seconds) + Double(c.attoseconds) / 1e18) * 1000).rounded() / 1000
    }
}
