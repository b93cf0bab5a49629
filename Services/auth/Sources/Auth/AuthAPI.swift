import BulkheadAuth
import BulkheadCrypto
import BulkheadHTTP
import BulkheadObservability
import Foundation
import Shared

/// auth's request handling: holds the store, the key ring and the login throttle; the routes
/// live in `AuthAPI+<Area>.swift`.
final class AuthAPI: Sendable {
    let settings: AuthSettings
    let store: AuthStore
    let keyRing: SigningKeyRing
    let throttle: LoginThrottle
    let verifier: AccessTokenVerifier
    let logger: Logger
    let metrics: AuthMetrics
    /// Checked against when the e-mail is unknown, so both failures cost the same scrypt work.
    let decoyHash: ScryptPasswordHash

    init(settings: AuthSettings, store: AuthStore, keyRing: SigningKeyRing, logger: Logger, metrics: AuthMetrics) throws {
        self.settings = settings
        self.store = store
        self.keyRing = keyRing
        self.logger = logger
        self.metrics = metrics
        throttle = LoginThrottle(baseDelay: settings.loginBaseDelay, maxDelay: settings.loginMaxDelay)
        decoyHash = try ScryptPasswordHash(password: SecureRandom.token(), parameters: settings.scrypt)
        // auth verifies its own tokens with the same code as every service, fed in-process.
        verifier = AccessTokenVerifier(
            configuration: .init(issuer: settings.issuer, audience: settings.audience, minimumRefreshInterval: .zero, maximumKeyAge: .seconds(1)),
            keySource: { [keyRing] in keyRing.jwks(now: Self.now()) })
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// Body limit of every JSON route: small, these are credentials and names.
    static let bodyLimit = 16 * 1024

    func register(into router: inout Router) {
        registerSessionRoutes(into: &router)
        registerMemberRoutes(into: &router)
        registerAPIKeyRoutes(into: &router)
        registerInternalRoutes(into: &router)
        router.get("/.well-known/jwks.json") { [keyRing] _, _ in
            try JSONBody.response(keyRing.jwks(now: Self.now()), headers: ["Cache-Control": "public, max-age=60"])
        }
    }

    /// Paths that need a user or API key.
    static let protectedPrefixes = ["/v1/auth/me", "/v1/auth/members", "/v1/api-keys"]

    /// Resolves the caller on protected paths only (a stale header on `/login` is ignored).
    var authenticationMiddleware: AuthenticationMiddleware {
        AuthenticationMiddleware(protectedPrefixes: Self.protectedPrefixes) { [self] request in
            guard Self.protectedPrefixes.contains(where: { request.path.hasPrefix($0) }) else { return nil }
            switch BulkheadAuthenticator.credential(in: request.headers) {
            case nil: return nil
            case .apiKey(let key):
                guard let p = try introspect(key: key).principal else { throw TokenVerificationError.inactiveAPIKey.httpError }
                return p
            case .accessToken(let token):
                do { return try await verifier.principal(for: token) } catch let error as TokenVerificationError { throw error.httpError }
            }
        }
    }

    /// The signed-in user behind a request, re-read so a changed role or a deleted user counts
    /// at once. API keys are refused: they cannot manage users or keys.
    func currentUser(_ context: RequestContext) throws -> User {
        guard let p = context.principal else { throw HTTPError.unauthorized() }
        guard p.kind == .user else { throw HTTPError.forbidden("This action needs a signed-in user, not an API key.") }
        guard let user = try store.user(id: p.subject, tenantID: p.tenant) else { throw HTTPError.unauthorized("This user no longer exists.") }
        return user
    }

    /// The current user, who must be an owner or admin.
    func currentManager(_ context: RequestContext) throws -> User {
        let user = try currentUser(context)
        guard user.role.canManage else { throw HTTPError.forbidden("Only owners and admins can do this.") }
        return user
    }

    func hashPassword(_ password: String) throws -> String {
        try ScryptPasswordHash(password: password, parameters: settings.scrypt).encoded
    }
}
