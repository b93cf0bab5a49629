import COpenSSL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One client-side TLS session over a non-blocking socket the caller owns.
///
/// Drive it from an event loop: call `handshake()` until it returns `.done`, then `read`/`write`.
/// Whenever a call returns `.wantRead` or `.wantWrite`, wait for that readiness on `fd` and
/// repeat the same call (for `write`, with the same bytes). The socket is never closed here:
/// drop the connection (or call `shutdown()` first), then close `fd` yourself.
///
/// The server's certificate is checked against `serverName` (DNS name or IP literal) and the
/// context's trust store; the name is also sent as SNI when it is not an IP address.
///
/// Thread safety: every call locks a `Mutex` around the `SSL` object, so the type is truly
/// `Sendable`. It is still meant to be owned by one event loop; the lock only makes misuse safe.
/// Writes use `MSG_NOSIGNAL`, so a vanished peer never raises SIGPIPE.
public final class TLSConnection: Sendable {
    /// The context this connection was made from (kept alive as long as the connection).
    public let context: TLSClientContext
    /// The socket, owned by the caller.
    public let fd: Int32
    /// The name the certificate must match.
    public let serverName: String

    /// The session. `@unchecked Sendable` because it is only ever reached through `state`'s lock.
    private struct State: @unchecked Sendable {
        let ssl: OpaquePointer
        let bio: OpaquePointer
        var failed = false
        var shutdownSent = false
    }

    private let state: Mutex<State>

    /// Prepares a TLS session on the connected (or still connecting) non-blocking socket `fd`.
    ///
    /// Throws `CryptoError` if `serverName` is empty (unless verification is disabled) or
    /// OpenSSL cannot set up the session. No I/O happens until `handshake()`.
    public init(context: TLSClientContext, fd: Int32, serverName: String) throws {
        let insecure = context.configuration.insecureSkipCertificateVerification
        guard !serverName.isEmpty || insecure else {
            throw CryptoError("TLSConnection needs a server name to verify the certificate against")
        }
        guard let ssl = SSL_new(context.ctx) else { throw CryptoError.openSSL("SSL_new failed") }
        guard let bio = SocketBIO.make(fd: fd) else {
            SSL_free(ssl)
            throw CryptoError.openSSL("creating the socket BIO failed")
        }
        SSL_set_bio(ssl, bio, bio)  // The SSL now owns the BIO.
        do {
            try Self.setServerName(serverName, on: ssl)
        } catch {
            SSL_free(ssl)
            throw error
        }
        self.context = context
        self.fd = fd
        self.serverName = serverName
        self.state = Mutex(State(ssl: ssl, bio: bio))
    }

    deinit {
        state.withLock { SSL_free($0.ssl) }
    }

    private static func setServerName(_ name: String, on ssl: OpaquePointer) throws {
        guard !name.isEmpty else { return }
        var host = name
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if isIPAddress(host) {
            // No SNI for IP literals (RFC 6066 §3); match the certificate's IP SAN instead.
            guard X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 else {
                throw CryptoError.openSSL("setting the expected IP address \(host) failed")
            }
            return
        }
        if host.hasSuffix(".") { host.removeLast() }
        SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
        guard SSL_set1_host(ssl, host) == 1 else {
            throw CryptoError.openSSL("setting the expected host name \(host) failed")
        }
        let sniSet = host.withCString { pointer in
            SSL_ctrl(
                ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name),
                UnsafeMutableRawPointer(mutating: pointer))
        }
        guard sniSet == 1 else { throw CryptoError.openSSL("setting SNI to \(host) failed") }
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, text, &address) == 1 || inet_pton(AF_INET6, text, &address) == 1
    }

    /// Advances the handshake. `.done(0)` once it is complete (calling again is harmless).
    ///
    /// A rejected certificate gives `.failed` with `verificationResult` set; a peer that closes
    /// mid-handshake gives `.failed` too (never `.closed`).
    public func handshake() -> TLSIOResult {
        state.withLock { state -> TLSIOResult in
            if state.failed { return .failed(TLSError("connection already failed")) }
            OpenSSLErrorQueue.clear()
            let result = SSL_connect(state.ssl)
            if result == 1 { return .done(0) }
            switch Self.outcome(of: result, in: &state, during: "TLS handshake") {
            case .closed:
                state.failed = true
                return .failed(
                    TLSError("TLS handshake failed: connection closed by peer", verificationResult: nil))
            case let other:
                return other
            }
        }
    }

    /// Reads decrypted bytes into `buffer`: `.done(n)` with `n ≥ 1`, or `.closed` at the end.
    ///
    /// Returns `.done(0)` only for an empty buffer. After `.done`, more decrypted bytes may already
    /// be buffered inside OpenSSL (`bufferedByteCount`) although the socket is not readable.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> TLSIOResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .done(0) }
        return state.withLock { state -> TLSIOResult in
            if state.failed { return .failed(TLSError("connection already failed")) }
            OpenSSLErrorQueue.clear()
            var count = 0
            let result = SSL_read_ex(state.ssl, base, buffer.count, &count)
            if result == 1 { return .done(count) }
            return Self.outcome(of: result, in: &state, during: "TLS read")
        }
    }

    /// Encrypts and sends bytes from `buffer`: `.done(n)` where `n` may be less than the count
    /// (send the rest next). After `.wantWrite`/`.wantRead`, call again with the same bytes.
    public func write(_ buffer: UnsafeRawBufferPointer) -> TLSIOResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .done(0) }
        return state.withLock { state -> TLSIOResult in
            if state.failed { return .failed(TLSError("connection already failed")) }
            OpenSSLErrorQueue.clear()
            var count = 0
            let result = SSL_write_ex(state.ssl, base, buffer.count, &count)
            if result == 1 { return .done(count) }
            return Self.outcome(of: result, in: &state, during: "TLS write")
        }
    }

    /// Sends close_notify once, without waiting for the peer's (best effort, non-blocking).
    ///
    /// Does nothing after a failure or before the handshake completed. Returns `.done(0)` once
    /// the alert is out, `.wantWrite` if the socket buffer is full (call again when writable).
    @discardableResult
    public func shutdown() -> TLSIOResult {
        state.withLock { state -> TLSIOResult in
            if state.failed || state.shutdownSent || SSL_is_init_finished(state.ssl) != 1 { return .done(0) }
            OpenSSLErrorQueue.clear()
            let result = SSL_shutdown(state.ssl)
            if result >= 0 {
                state.shutdownSent = true
                return .done(0)
            }
            let outcome = Self.outcome(of: result, in: &state, during: "TLS shutdown")
            if case .closed = outcome { state.shutdownSent = true }
            return outcome
        }
    }

    /// Whether the handshake has completed.
    public var isHandshakeComplete: Bool {
        state.withLock { SSL_is_init_finished($0.ssl) == 1 }
    }

    /// Decrypted bytes buffered inside OpenSSL, readable without waiting for the socket.
    public var bufferedByteCount: Int {
        state.withLock { Int(SSL_pending($0.ssl)) }
    }

    /// The negotiated protocol version (for example `"TLSv1.3"`), once the handshake is done.
    public var protocolVersion: String? {
        state.withLock { state -> String? in
            guard SSL_is_init_finished(state.ssl) == 1, let name = SSL_get_version(state.ssl) else { return nil }
            return String(cString: name)
        }
    }

    /// The ALPN protocol the server selected, if any.
    public var negotiatedApplicationProtocol: String? {
        state.withLock { state -> String? in
            var data: UnsafePointer<UInt8>?
            var length: UInt32 = 0
            SSL_get0_alpn_selected(state.ssl, &data, &length)
            guard let data, length > 0 else { return nil }
            return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
        }
    }

    /// Whether the peer closed the TCP connection without sending close_notify.
    /// `read` reports that as `.closed`; a body without length framing may then be truncated.
    public var closedWithoutCloseNotify: Bool {
        state.withLock { SocketBIO.sawEndOfFile($0.bio) }
    }

    /// Turns a failed `SSL_*` call into a result. Runs on the calling thread, right after the
    /// call, so `errno` and OpenSSL's thread-local error queue still describe it.
    private static func outcome(of result: Int32, in state: inout State, during operation: String) -> TLSIOResult {
        let savedErrno = errno
        let code = SSL_get_error(state.ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ:
            return .wantRead
        case SSL_ERROR_WANT_WRITE:
            return .wantWrite
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        case SSL_ERROR_SYSCALL:
            let errors = OpenSSLErrorQueue.drain()
            if errors.isEmpty && savedErrno == 0 {
                // End of file with nothing else wrong: a TCP close.
                return .closed
            }
            state.failed = true
            let reason = savedErrno != 0 ? String(cString: strerror(savedErrno)) : "I/O error"
            return .failed(
                TLSError("\(operation) failed: \(reason)", openSSLErrors: errors, systemError: savedErrno != 0 ? savedErrno : nil))
        default:
            state.failed = true
            let errors = OpenSSLErrorQueue.drain()
            let verify = SSL_get_verify_result(state.ssl)
            if verify != Int(X509_V_OK) {
                let text = X509_verify_cert_error_string(verify).map { String(cString: $0) } ?? "error \(verify)"
                return .failed(
                    TLSError(
                        "\(operation) failed: certificate rejected", openSSLErrors: errors,
                        verificationResult: text, verificationCode: verify))
            }
            return .failed(TLSError("\(operation) failed (SSL error \(code))", openSSLErrors: errors))
        }
    }
}
