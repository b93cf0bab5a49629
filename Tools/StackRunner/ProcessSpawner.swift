import BulkheadHTTP
import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Starts child processes with `posix_spawn`, always from one dedicated, never-ending thread.
///
/// Why a thread of its own: Linux sends a child's parent-death signal (`PR_SET_PDEATHSIG`,
/// set by `ChildTrampoline`) when the *thread* that created it exits, and the threads behind
/// Swift's task executors come and go. A thread that lives as long as the process makes the
/// signal mean "the runner died".
///
/// Each child gets: exactly the environment given, stdin from /dev/null, stdout and stderr
/// inherited (services write whole JSON lines), an empty signal mask and default signal
/// actions (the runner's are for itself), and its own process group, so a terminal's
/// Ctrl-C reaches only the runner, which then stops the children in order.
public final class ProcessSpawner: Sendable {
    /// What to start.
    public struct Request: Sendable {
        public var executable: String
        public var arguments: [String]
        /// `NAME=value` entries: the child's whole environment.
        public var environment: [String]
        public init(executable: String, arguments: [String], environment: [String]) {
            self.executable = executable
            self.arguments = arguments
            self.environment = environment
        }
    }

    private struct Pending: Sendable {
        let request: Request
        let continuation: CheckedContinuation<pid_t, any Error>
    }

    /// The process-wide spawner.
    public static let shared = ProcessSpawner()

    private let queue = Mutex<[Pending]>([])
    private let wakeup = DispatchSemaphore(value: 0)

    private init() {
        let thread = Thread { [self] in
            ThreadName.setCurrent("stack-spawner")
            self.serve()
        }
        thread.name = "stack-spawner"
        thread.start()
    }

    /// Starts `request.executable` with `request.arguments` (argv, program name included).
    public func spawn(_ request: Request) async throws -> pid_t {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<pid_t, any Error>) in
            queue.withLock { $0.append(Pending(request: request, continuation: c)) }
            wakeup.signal()
        }
    }

    private func serve() {
        while true {
            wakeup.wait()
            let next = queue.withLock { q -> Pending? in q.isEmpty ? nil : q.removeFirst() }
            guard let next else { continue }
            let result = Self.posixSpawn(next.request)
            if result.code == 0 {
                next.continuation.resume(returning: result.pid)
            } else {
                next.continuation.resume(throwing: SpawnError(executable: next.request.executable, code: result.code))
            }
        }
    }

    static func posixSpawn(_ request: Request) -> (pid: pid_t, code: Int32) {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        let argv = request.arguments.map { strdup($0) } + [nil]
        let envp = request.environment.map { strdup($0) } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let code = posix_spawn(&pid, request.executable, &actions, &attributes, argv, envp)
        return (pid, code)
    }
}
