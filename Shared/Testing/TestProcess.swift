import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

/// A child process for tests, started with posix_spawn and watched with `waitpid(WNOHANG)`.
///
/// Foundation's `Process` is avoided on purpose: its monitor thread blocks in `wait4` and its
/// `waitUntilExit` blocks a cooperative thread, which on a 2-core machine can stall every
/// other test. Output goes to files, so nothing needs draining while the child runs.
public final class TestProcess: @unchecked Sendable {
    // Safe because: `status` is only touched by the test task that owns the process.
    public let pid: pid_t
    public let outputPath: String
    private var status: Int32?

    /// Starts `path` with `arguments` and exactly `environment`; stdout and stderr both go to a temp file.
    public init(path: String, arguments: [String] = [], environment: [String: String], directory: String? = nil) throws {
        var template = Array("/tmp/bulkhead-proc-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw TestError("mkstemp failed") }
        close(fd)
        outputPath = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        if let directory { bh_spawn_addchdir(&actions, directory) }

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var child: pid_t = 0
        let rc = posix_spawn(&child, path, &actions, nil, argv, envp)
        guard rc == 0 else { throw TestError("posix_spawn \(path) failed: \(String(cString: strerror(rc)))") }
        pid = child
    }

    deinit {
        if status == nil {
            kill(pid, SIGKILL)
            var s: Int32 = 0
            waitpid(pid, &s, 0)
        }
        unlink(outputPath)
    }

    /// Whether the child is still running (reaps it when it has exited).
    public var isRunning: Bool {
        if status != nil { return false }
        var s: Int32 = 0
        let r = waitpid(pid, &s, WNOHANG)
        if r == pid {
            status = s
            return false
        }
        return r == 0
    }

    public func signal(_ signal: Int32) { if status == nil { kill(pid, signal) } }

    /// Waits (without blocking a thread) for the child to exit; returns its exit code, or
    /// 128+signal when a signal ended it, or nil on timeout.
    public func waitForExit(timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while isRunning && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        guard let s = status else { return nil }
        let signalled = s & 0x7f
        return signalled == 0 ? (s >> 8) & 0xff : 128 + signalled
    }

    /// Everything the child wrote to stdout and stderr so far.
    public var output: String {
        guard let f = fopen(outputPath, "r") else { return "" }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buffer, 1, buffer.count, f)
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Runs a command to completion (for short tools like `openssl`); returns exit code and output.
    public static func run(_ path: String, _ arguments: [String], directory: String? = nil) async throws -> (status: Int32, output: String) {
        let p = try TestProcess(path: path, arguments: arguments, environment: ["PATH": "/usr/local/bin:/usr/bin:/bin"], directory: directory)
        guard let status = await p.waitForExit(timeout: .seconds(60)) else { throw TestError("\(path) did not finish") }
        return (status, p.output)
    }
}
