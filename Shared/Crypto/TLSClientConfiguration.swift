/// Settings for a `TLSClientContext`.
public struct TLSClientConfiguration: Sendable, Hashable {
    /// The lowest TLS version to accept. TLS 1.2 is the floor: older versions cannot be selected.
    public enum ProtocolVersion: Sendable, Hashable {
        /// TLS 1.2 (RFC 5246) or newer.
        case tls12
        /// TLS 1.3 (RFC 8446) only.
        case tls13
    }

    /// The lowest protocol version to negotiate. Default `.tls12`.
    public var minimumVersion: ProtocolVersion
    /// Trust the system certificate store (`SSL_CTX_set_default_verify_paths`). Default `true`.
    public var trustSystemRoots: Bool
    /// A PEM file of extra CA certificates to trust (for example a private CA).
    public var additionalTrustedCAFile: String?
    /// PEM text of extra CA certificates to trust (one or more `BEGIN CERTIFICATE` blocks).
    public var additionalTrustedCAPEM: String?
    /// ALPN protocol names to offer, most preferred first (for example `["http/1.1"]`). Empty: no ALPN.
    public var applicationProtocols: [String]
    /// DANGER: accept any certificate for any name. Only for local experiments against servers
    /// with throwaway certificates; never in production, never to reach a real service.
    public var insecureSkipCertificateVerification: Bool

    /// Creates a configuration; the defaults verify against the system trust store with TLS ≥ 1.2.
    public init(
        minimumVersion: ProtocolVersion = .tls12,
        trustSystemRoots: Bool = true,
        additionalTrustedCAFile: String? = nil,
        additionalTrustedCAPEM: String? = nil,
        applicationProtocols: [String] = [],
        insecureSkipCertificateVerification: Bool = false
    ) {
        self.minimumVersion = minimumVersion
        self.trustSystemRoots = trustSystemRoots
        self.additionalTrustedCAFile = additionalTrustedCAFile
        self.additionalTrustedCAPEM = additionalTrustedCAPEM
        self.applicationProtocols = applicationProtocols
        self.insecureSkipCertificateVerification = insecureSkipCertificateVerification
    }
}
