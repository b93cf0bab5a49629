#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A ``LogSink`` that writes lines to a file descriptor, by default standard error.
///
/// Each line goes out in one `write(2)` call. A lock held around the call keeps lines
/// whole even in the rare case of a short write (which is then completed before any
/// other thread writes), so lines from different threads never interleave. Share one
/// sink per descriptor — ``standardError`` for fd 2 — so that every logger uses the same lock.
///
/// Errors other than `EINTR` are dropped: logging never fails the caller.
public final class FileDescriptorLogSink: LogSink {
    /// The shared sink for standard error (fd 2).
    public static let standardError = FileDescriptorLogSink(fileDescriptor: 2)

    private let descriptor: Mutex<Int32>

    /// Creates a sink for `fileDescriptor`. The sink does not own or close it.
    public init(fileDescriptor: Int32) {
        descriptor = Mutex(fileDescriptor)
    }

    /// The file descriptor written to.
    public var fileDescriptor: Int32 { descriptor.withLock { $0 } }

    /// Writes `line` with `write(2)`, retrying on `EINTR` and finishing short writes.
    public func write(_ line: [UInt8]) {
        descriptor.withLock { fd in
            line.withUnsafeBytes { buffer in
                guard var base = buffer.baseAddress else { return }
                var remaining = buffer.count
                while remaining > 0 {
                    #if canImport(Glibc)
                    let written = Glibc.write(fd, base, remaining)
                    #elseif canImport(Musl)
                    let written = Musl.write(fd, base, remaining)
                    #else
                    let written = Darwin.write(fd, base, remaining)
                    #endif
                    if written < 0 {
                        if errno == EINTR { continue }
                        return
                    }
                    remaining -= written
                    base += written
                }
            }
        }
    }
}
