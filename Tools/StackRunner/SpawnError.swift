#if canImport(Glibc)
import Glibc
#endif

/// `posix_spawn` refused to start a child (the executable is missing, not executable, ...).
public struct SpawnError: Error, Sendable, CustomStringConvertible {
    public let executable: String
    public let code: Int32

    public init(executable: String, code: Int32) {
        self.executable = executable
        self.code = code
    }

    public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
}
