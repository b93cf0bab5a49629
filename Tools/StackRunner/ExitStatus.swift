/// How a child process ended, decoded from a `waitpid` status.
public enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(code: Int32)
    case signaled(signal: Int32)

    /// Decodes a raw `waitpid` status (the `WIFEXITED`/`WTERMSIG` macros, which Swift does not import).
    public init(waitStatus status: Int32) {
        let low = status & 0x7f
        if low == 0 {
            self = .exited(code: (status >> 8) & 0xff)
        } else {
            self = .signaled(signal: low)
        }
    }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signaled(let signal): "killed by signal \(signal)"
        }
    }

    /// Log metadata: `exit_code` or `signal`.
    var logFields: (key: String, value: Int) {
        switch self {
        case .exited(let code): ("exit_code", Int(code))
        case .signaled(let signal): ("signal", Int(signal))
        }
    }
}
