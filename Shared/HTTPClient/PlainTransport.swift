import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

/// Plain TCP.
final class PlainTransport: ClientTransport {
    let fd: Int32

    init(fd: Int32) { self.fd = fd }

    func handshake() -> TransportResult { .done(0) }

    var buffersInput: Bool { false }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n > 0 { return .done(n) }
            if n == 0 { return .closed }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wantRead }
            return .failed(Self.socketError("read", e))
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return .done(0) }
        while true {
            let n = bh_send(fd, base, bytes.count)
            if n >= 0 { return .done(n) }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK { return .wantWrite }
            return .failed(Self.socketError("write", e))
        }
    }

    /// Resets and broken pipes mean the server went away: `.connectionClosed` (retryable);
    /// anything else is reported with its system message.
    static func socketError(_ operation: String, _ e: Int32) -> HTTPClientError {
        let text = String(cString: strerror(e))
        if e == ECONNRESET || e == EPIPE || e == ECONNABORTED || e == ENOTCONN {
            return HTTPClientError(.connectionClosed, "\(operation) failed: \(text)")
        }
        if e == ETIMEDOUT {
            return HTTPClientError(.connectionClosed, "\(operation) failed: the connection timed out (\(text))")
        }
        return HTTPClientError(.connectionClosed, "\(operation) failed: \(text) (errno \(e))")
    }
}
