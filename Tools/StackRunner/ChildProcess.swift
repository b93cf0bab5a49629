import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A started child process: signal it and learn when it ends. Its pid is only signalled
/// while it has not been reaped, so a recycled pid is never hit.
public final class ChildProcess: Sendable {
    public let pid: pid_t
    /// What was started (the service executable).
    public let executable: String
    /// When it started.
    public let startedAt: ContinuousClock.Instant
    /// nil while running; set once reaped.
    private let exit = Mutex<ExitStatus?>(nil)

    init(pid: pid_t, executable: String) {
        self.pid = pid
        self.executable = executable
        startedAt = .now
    }

    /// Sends `signal` unless the process has already been reaped; true if delivered.
    @discardableResult
    public func send(_ signal: Int32) -> Bool {
        exit.withLock { status in
            if status != nil { return false }
            return kill(pid, signal) == 0
        }
    }

    /// Reaps the process if it has ended (non-blocking); nil while it runs.
    public func pollExit() -> ExitStatus? {
        exit.withLock { status in
            if let status { return status }
            var raw: Int32 = 0
            let r = waitpid(pid, &raw, WNOHANG)
            if r == pid {
                status = ExitStatus(waitStatus: raw)
            } else if r < 0 && errno == ECHILD {
                status = .exited(code: -1)  // reaped elsewhere; nothing left to wait for
            }
            return status
        }
    }

    /// Returns once the process has ended, checking every `interval`. Cancellation does not
    /// stop the wait (a child must always be reaped); stop the child instead.
    public func waitForExit(interval: Duration = .milliseconds(50)) async -> ExitStatus {
        while true {
            if let status = pollExit() { return status }
            await Self.sleep(interval)
        }
    }

    /// Waits up to `timeout`; nil if the process still runs then.
    public func waitForExit(timeout: Duration, interval: Duration = .milliseconds(20)) async -> ExitStatus? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let status = pollExit() { return status }
            if ContinuousClock.now >= deadline { return nil }
            await Self.sleep(interval)
        }
    }

    /// A sleep that also sleeps in a cancelled task (where Task.sleep returns at once, which
    /// would turn polling loops into spinning ones).
    static func sleep(_ duration: Duration) async {
        if !Task.isCancelled {
            do {
                try await Task.sleep(for: duration)
                return
            } catch {}
        }
        await Task.detached { try? await Task.sleep(for: duration) }.value
    }
}
