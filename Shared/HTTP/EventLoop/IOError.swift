#if canImport(Glibc)
import Glibc
#endif

/// A failed system call, keeping `errno` so callers can tell EAGAIN from ECONNRESET.
public struct IOError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let errno: Int32
    public init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }
    public var description: String {
        let text = String(cString: strerror(errno))
        return "\(operation) failed: \(text) (errno \(errno))"
    }
}

/// Retries a system call on EINTR and returns its result or the errno it failed with.
@inlinable
func retryingEINTR<T: BinaryInteger>(_ call: () -> T) -> (result: T, errno: Int32) {
    while true {
        let r = call()
        if r >= 0 { return (r, 0) }
        let e = Glibc.errno
        if e == EINTR { continue }
        return (r, e)
    }
}
