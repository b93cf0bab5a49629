import BulkheadHTTP
import Shared

/// The ready-made authenticator for `AuthenticationMiddleware`: a Bearer access token (JWT)
/// checked by `AccessTokenVerifier`, or an API key (`Authorization: Bearer bk_...` or
/// `X-API-Key: bk_...`) resolved by `APIKeyIntrospector`.
///
/// ```swift
/// let auth = AuthenticationMiddleware(
///     protectedPrefixes: ["/v1/"],
///     authenticate: BulkheadAuthenticator.make(verifier: verifier, introspector: introspector))
/// ```
public enum BulkheadAuthenticator {
    /// Returns nil without a credential (the middleware then answers 401 on protected paths),
    /// the principal for a good one, and throws a 401 `invalid_token` `HTTPError` for a bad one.
    /// Requests under `skippingPrefixes` (by default `/internal/`, guarded by the internal
    /// credential instead) are not looked at.
    public static func make(
        verifier: AccessTokenVerifier, introspector: APIKeyIntrospector?, skippingPrefixes: [String] = ["/internal/"]
    ) -> AuthenticationMiddleware.Authenticator {
        { request in
            if skippingPrefixes.contains(where: { request.path.hasPrefix($0) }) { return nil }
            guard let credential = credential(in: request.headers) else { return nil }
            do {
                switch credential {
                case .apiKey(let key):
                    guard let introspector else { throw TokenVerificationError.inactiveAPIKey }
                    return try await introspector.principal(for: key)
                case .accessToken(let token):
                    return try await verifier.principal(for: token)
                }
            } catch let error as TokenVerificationError {
                throw error.httpError
            }
        }
    }

    /// A presented credential.
    public enum Credential: Sendable, Equatable {
        case accessToken(String)
        case apiKey(String)
    }

    /// The credential in `Authorization: Bearer` or `X-API-Key`, if any.
    public static func credential(in headers: HTTPHeaders) -> Credential? {
        if let key = headers.first("x-api-key")?.trimmingCharacters(in: " \t"), !key.isEmpty { return .apiKey(key) }
        guard let value = headers.first("authorization"), value.count > 7, value.prefix(7).lowercased() == "bearer " else {
            return nil
        }
        let token = String(value.dropFirst(7)).trimmingCharacters(in: " \t")
        if token.isEmpty { return nil }
        return token.hasPrefix("bk_") ? .apiKey(token) : .accessToken(token)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
