import BulkheadHTTP

/// Why a token or API key was refused. Every case maps to 401 `invalid_token`
/// (or 503 when the keys could not be fetched at all).
public enum TokenVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not three base64url parts, bad JSON, missing claims, too long.
    case malformed(String)
    /// `alg` other than `EdDSA` (`none`, `HS256`, `RS256`...).
    case unsupportedAlgorithm(String)
    /// No key with this `kid`, even after refreshing the key set.
    case unknownKey(String)
    case badSignature
    case expired
    case notYetValid
    case wrongIssuer
    case wrongAudience
    /// The key set could not be fetched.
    case keysUnavailable(String)
    /// An API key that does not exist, was revoked or expired.
    case inactiveAPIKey

    public var description: String {
        switch self {
        case .malformed(let why): "malformed token: \(why)"
        case .unsupportedAlgorithm(let alg): "unsupported token algorithm '\(alg)' (only EdDSA is accepted)"
        case .unknownKey(let kid): "token signed with unknown key '\(kid)'"
        case .badSignature: "token signature is invalid"
        case .expired: "token has expired"
        case .notYetValid: "token is not valid yet"
        case .wrongIssuer: "token issuer is not trusted"
        case .wrongAudience: "token is not meant for this audience"
        case .keysUnavailable(let why): "signing keys unavailable: \(why)"
        case .inactiveAPIKey: "API key is invalid, revoked or expired"
        }
    }

    /// The HTTP error to answer with.
    public var httpError: HTTPError {
        if case .keysUnavailable = self {
            return HTTPError(.serviceUnavailable, code: "auth_unavailable", message: "Cannot verify credentials right now.")
        }
        return HTTPError(
            .unauthorized, code: "invalid_token", message: "Invalid credential: \(description).",
            headers: ["WWW-Authenticate": "Bearer error=\"invalid_token\""])
    }
}
