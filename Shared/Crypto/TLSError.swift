/// Why a TLS operation on a `TLSConnection` failed.
public struct TLSError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in our words (for example `"TLS handshake failed"`).
    public var message: String
    /// OpenSSL's error strings (`ERR_error_string_n`), oldest first.
    public var openSSLErrors: [String]
    /// The certificate verification result text (`X509_verify_cert_error_string`) when the
    /// peer's certificate was rejected, for example `"certificate verify failed"` reasons like
    /// `"unable to get local issuer certificate"` or `"hostname mismatch"`; `nil` otherwise.
    public var verificationResult: String?
    /// The numeric `X509_V_ERR_*` code that goes with `verificationResult`.
    public var verificationCode: Int?
    /// The `errno` of a failed socket call, when that was the cause.
    public var systemError: Int32?

    /// Creates an error.
    public init(
        _ message: String, openSSLErrors: [String] = [], verificationResult: String? = nil,
        verificationCode: Int? = nil, systemError: Int32? = nil
    ) {
        self.message = message
        self.openSSLErrors = openSSLErrors
        self.verificationResult = verificationResult
        self.verificationCode = verificationCode
        self.systemError = systemError
    }

    /// Whether the failure is the peer's certificate being rejected (untrusted, expired, wrong name...).
    public var isCertificateVerificationFailure: Bool { verificationCode != nil }

    /// All the details on one line.
    public var description: String {
        var parts = [message]
        if let verificationResult { parts.append("certificate verification: \(verificationResult)") }
        if !openSSLErrors.isEmpty { parts.append(openSSLErrors.joined(separator: "; ")) }
        if let systemError { parts.append("errno \(systemError)") }
        return parts.joined(separator: ": ")
    }
}
