import COpenSSL

/// Shared client-side TLS settings (an OpenSSL `SSL_CTX`): trust store, minimum version, ALPN.
///
/// Make one per distinct configuration and share it across connections and threads.
/// Peers are verified against the system trust store (plus any extra CAs configured) unless
/// `insecureSkipCertificateVerification` is set.
///
/// Sendable: the `SSL_CTX` is fully configured in `init` and never modified afterwards; OpenSSL
/// documents that an unmodified `SSL_CTX` may be used from several threads to create `SSL`
/// objects (`openssl-threads(7)`). It is freed in `deinit`, after every `TLSConnection`
/// (each holds a strong reference to its context).
public final class TLSClientContext: @unchecked Sendable {
    /// The settings this context was made with.
    public let configuration: TLSClientConfiguration
    let ctx: OpaquePointer

    /// Options OpenSSL hides behind the `SSL_OP_BIT(n)` macro, which Swift cannot import.
    private enum Options {
        /// `SSL_OP_IGNORE_UNEXPECTED_EOF`: a TCP close without close_notify reads as a close
        /// (the HTTP layer detects truncated bodies by their framing); see
        /// `TLSConnection.closedWithoutCloseNotify`.
        static let ignoreUnexpectedEOF: UInt64 = 1 << 7
        /// `SSL_OP_NO_RENEGOTIATION`: refuse TLS 1.2 renegotiation requests.
        static let noRenegotiation: UInt64 = 1 << 30
    }

    /// Creates a context. Throws if OpenSSL rejects a setting or a CA file or PEM cannot be loaded.
    public init(configuration: TLSClientConfiguration = TLSClientConfiguration()) throws {
        guard let ctx = SSL_CTX_new(TLS_client_method()) else { throw CryptoError.openSSL("SSL_CTX_new failed") }
        do {
            try Self.configure(ctx, with: configuration)
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        self.ctx = ctx
        self.configuration = configuration
    }

    deinit {
        SSL_CTX_free(ctx)
    }

    private static func configure(_ ctx: OpaquePointer, with configuration: TLSClientConfiguration) throws {
        let minimum: Int32 = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard SSL_CTX_ctrl(ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(minimum), nil) == 1 else {
            throw CryptoError.openSSL("setting the minimum TLS version failed")
        }
        _ = SSL_CTX_set_options(ctx, Options.ignoreUnexpectedEOF | Options.noRenegotiation)
        // Partial writes report progress on non-blocking sockets; a moving buffer lets the
        // caller retry a write from a different (re-allocated) buffer holding the same bytes.
        let mode = Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
        _ = SSL_CTX_ctrl(ctx, SSL_CTRL_MODE, mode, nil)

        SSL_CTX_set_verify(ctx, configuration.insecureSkipCertificateVerification ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, nil)
        if configuration.trustSystemRoots {
            guard SSL_CTX_set_default_verify_paths(ctx) == 1 else {
                throw CryptoError.openSSL("loading the system trust store failed")
            }
        }
        if let file = configuration.additionalTrustedCAFile {
            guard SSL_CTX_load_verify_file(ctx, file) == 1 else {
                throw CryptoError.openSSL("loading CA file \(file) failed")
            }
        }
        if let pem = configuration.additionalTrustedCAPEM {
            try addTrustedCertificates(pem: pem, to: ctx)
        }
        if !configuration.applicationProtocols.isEmpty {
            var wire: [UInt8] = []
            for name in configuration.applicationProtocols {
                let bytes = Array(name.utf8)
                guard (1...255).contains(bytes.count) else {
                    throw CryptoError("ALPN protocol name must be 1-255 bytes: \(name)")
                }
                wire.append(UInt8(bytes.count))
                wire.append(contentsOf: bytes)
            }
            // Note the inverted convention: 0 means success.
            guard SSL_CTX_set_alpn_protos(ctx, wire, UInt32(wire.count)) == 0 else {
                throw CryptoError.openSSL("SSL_CTX_set_alpn_protos failed")
            }
        }
    }

    private static func addTrustedCertificates(pem: String, to ctx: OpaquePointer) throws {
        guard let store = SSL_CTX_get_cert_store(ctx) else { throw CryptoError("SSL_CTX has no certificate store") }
        let added = try MemoryBIO.reading(pem) { bio -> Int in
            var count = 0
            while let certificate = PEM_read_bio_X509(bio, nil, { _, _, _, _ in 0 }, nil) {
                defer { X509_free(certificate) }
                guard X509_STORE_add_cert(store, certificate) == 1 else {
                    throw CryptoError.openSSL("X509_STORE_add_cert failed")
                }
                count += 1
            }
            // The loop ends on "no start line" at the end of input; that is not an error.
            OpenSSLErrorQueue.clear()
            return count
        }
        guard added > 0 else { throw CryptoError("no certificate found in the additional CA PEM") }
    }
}
