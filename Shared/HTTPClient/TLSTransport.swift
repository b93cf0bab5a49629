import BulkheadCrypto

/// TLS over the connection's socket through `BulkheadCrypto.TLSConnection` (certificate
/// and hostname verification, SNI).
final class TLSTransport: ClientTransport {
    let tls: TLSConnection

    init(context: TLSClientContext, fd: Int32, serverName: String) throws(HTTPClientError) {
        do {
            tls = try TLSConnection(context: context, fd: fd, serverName: serverName)
        } catch {
            throw HTTPClientError(.tlsFailed, "could not set up TLS for \(serverName): \(error)")
        }
    }

    var buffersInput: Bool { true }

    func handshake() -> TransportResult {
        switch tls.handshake() {
        case .done(let n): return .done(n)
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed: return .failed(HTTPClientError(.tlsFailed, "the server closed the connection during the TLS handshake"))
        case .failed(let error):
            let message = error.isCertificateVerificationFailure
                ? "the certificate of \(tls.serverName) was rejected: \(error)"
                : "the TLS handshake with \(tls.serverName) failed: \(error)"
            return .failed(HTTPClientError(.tlsFailed, message))
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult {
        map(tls.read(into: buffer), "read")
    }

    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult {
        map(tls.write(bytes), "write")
    }

    private func map(_ result: TLSIOResult, _ operation: String) -> TransportResult {
        switch result {
        case .done(let n): return .done(n)
        case .wantRead: return .wantRead
        case .wantWrite: return .wantWrite
        case .closed: return .closed
        case .failed(let error):
            if let e = error.systemError { return .failed(PlainTransport.socketError("TLS \(operation)", e)) }
            return .failed(HTTPClientError(.connectionClosed, "TLS \(operation) failed: \(error)"))
        }
    }

    /// Best-effort close_notify before the socket is closed.
    func sendCloseNotify() {
        _ = tls.shutdown()
    }
}
