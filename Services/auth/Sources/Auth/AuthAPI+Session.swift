import BulkheadAuth
import BulkheadCrypto
import BulkheadHTTP
import BulkheadService
import Foundation
import Shared

/// Signup, login, refresh, logout and `me`.
extension AuthAPI {
    struct SignupBody: RequestBody {
        static let fields: Set<String> = ["tenant_name", "email", "password"]
        var tenantName: String
        var email: String
        var password: String
    }

    struct LoginBody: RequestBody {
        static let fields: Set<String> = ["email", "password"]
        var email: String
        var password: String
    }

    struct RefreshBody: RequestBody {
        static let fields: Set<String> = ["refresh_token"]
        var refreshToken: String
    }

    /// What login, signup and refresh answer.
    struct TokenPair: Encodable {
        var accessToken: String
        var refreshToken: String
        var tokenType = "Bearer"
        var expiresIn: Int64
    }

    struct SignupAnswer: Encodable {
        var tenant: Tenant
        var user: MemberView
        var accessToken: String
        var refreshToken: String
        var tokenType = "Bearer"
        var expiresIn: Int64
    }

    struct MeAnswer: Encodable {
        var kind: String
        var subject: String
        var tenant: Tenant
        var user: MemberView?
        var role: String
        var scopes: [String]
        var plan: PlanLimits?
    }

    /// Handlers that hash passwords or write run through `BlockingWork`: a 65 ms scrypt on an
    /// event loop would stall every other connection on that loop.
    func registerSessionRoutes(into router: inout Router) {
        router.post("/v1/auth/signup", bodyLimit: Self.bodyLimit) { [self] request, _ in try await BlockingWork.run { try self.signup(request) } }
        router.post("/v1/auth/login", bodyLimit: Self.bodyLimit) { [self] request, _ in try await BlockingWork.run { try self.login(request) } }
        router.post("/v1/auth/refresh", bodyLimit: Self.bodyLimit) { [self] request, _ in try await BlockingWork.run { try self.refresh(request) } }
        router.post("/v1/auth/logout", bodyLimit: Self.bodyLimit) { [self] request, _ in try await BlockingWork.run { try self.logout(request) } }
        router.get("/v1/auth/me") { [self] _, context in try me(context) }
    }

    /// Role-derived scopes of user tokens: owners and admins may do everything; members what
    /// a product user does (call AI, run jobs, read usage, edit their settings).
    static func scopes(for role: Role) -> [String] {
        switch role {
        case .owner, .admin: ["*"]
        case .member: ["ai:invoke", "jobs:read", "jobs:write", "usage:read", "settings:read", "settings:write"]
        }
    }

    /// Signs an access token; pairs it with `rotatedRefreshToken` (already stored by the
    /// rotation) or with the first token of a new refresh family.
    func issueTokens(for user: User, plan: String, rotatedRefreshToken: String? = nil) throws -> TokenPair {
        guard let signer = keyRing.signer() else { throw HTTPError(.serviceUnavailable, code: "no_signing_key", message: "No signing key.") }
        let now = Self.now()
        let claims = AccessTokenClaims(
            iss: settings.issuer, aud: settings.audience, sub: user.id, tenant: user.tenantID, role: user.role.rawValue,
            scopes: Self.scopes(for: user.role), plan: plan, iat: now, exp: now + settings.accessTokenTTL, nbf: now,
            jti: Identifiers.make("jti"))
        let access = try JWT.sign(claims, kid: signer.kid, key: signer.key)
        let refresh = rotatedRefreshToken ?? "rt_" + SecureRandom.token(bytes: 32)
        if rotatedRefreshToken == nil {
            try store.startRefreshFamily(userID: user.id, tokenHash: SHA256.hash(refresh), expiresAt: now + settings.refreshTokenTTL, now: now)
        }
        return TokenPair(accessToken: access, refreshToken: refresh, expiresIn: settings.accessTokenTTL)
    }

    func signup(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody.decode(SignupBody.self, from: request)
        let name = try Validation.name(body.tenantName, field: "tenant_name")
        let email = try Validation.email(body.email)
        try Validation.password(body.password, minimum: settings.passwordMinLength)
        let tenant: Tenant, user: User
        do {
            (tenant, user) = try store.createTenant(name: name, plan: settings.defaultPlan, owner: email, passwordHash: hashPassword(body.password), now: Self.now())
        } catch AuthStoreError.emailTaken {
            throw HTTPError(.conflict, code: "email_taken", message: "An account with this e-mail already exists.")
        }
        let tokens = try issueTokens(for: user, plan: tenant.plan)
        return try JSONBody.response(
            SignupAnswer(tenant: tenant, user: MemberView(user), accessToken: tokens.accessToken, refreshToken: tokens.refreshToken, expiresIn: tokens.expiresIn),
            status: .created)
    }

    /// The client's address for the per-address limiter. Behind a trusted proxy (the stack's
    /// ingress on loopback by default) every request arrives from the proxy, so the address the
    /// proxy appended last to `X-Forwarded-For` is used instead; anyone else's header is ignored.
    func clientAddress(_ request: HTTPRequest) -> String {
        guard settings.trustedProxies.contains(request.remoteAddress),
            let forwarded = request.headers.values("x-forwarded-for").last?.split(separator: ",").last
        else { return request.remoteAddress }
        let address = forwarded.trimmingCharacters(in: .whitespaces)
        return address.isEmpty || address.count > 64 ? request.remoteAddress : address
    }

    func login(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody.decode(LoginBody.self, from: request)
        // Malformed addresses fail like wrong passwords: the answer never tells what exists.
        let email = (try? Validation.email(body.email)) ?? body.email.lowercased()
        let accountKey = "account:" + email
        let addressKey = "address:" + clientAddress(request)
        let now = Self.now()
        if let wait = throttle.retryAfter([accountKey, addressKey], now: now) {
            metrics.logins.labels("throttled").inc()
            throw HTTPError(.tooManyRequests, code: "too_many_attempts",
                message: "Too many failed sign-in attempts; try again in \(wait) seconds.", headers: ["Retry-After": String(wait)])
        }
        throttle.charge(accountKey, free: settings.loginFreeAttemptsPerAccount, now: now)
        throttle.charge(addressKey, free: settings.loginFreeAttemptsPerAddress, now: now)
        let user = try store.user(email: email)
        let stored = user.flatMap { ScryptPasswordHash(encoded: $0.passwordHash) } ?? decoyHash
        let matches = body.password.utf8.count <= AuthSettings.maxPasswordBytes && ((try? stored.verify(password: body.password)) ?? false)
        guard let user, matches else {
            metrics.logins.labels("invalid").inc()
            throw HTTPError(.unauthorized, code: "invalid_credentials", message: "E-mail or password is incorrect.")
        }
        throttle.refund(accountKey, free: settings.loginFreeAttemptsPerAccount, clear: true)
        throttle.refund(addressKey, free: settings.loginFreeAttemptsPerAddress, clear: false)
        // Parameters travel with each hash: raise AUTH_SCRYPT_LOG_N and hashes upgrade on login.
        if stored.needsRehash(for: settings.scrypt), let upgraded = try? hashPassword(body.password) {
            try store.setPasswordHash(userID: user.id, hash: upgraded)
        }
        guard let tenant = try store.tenant(id: user.tenantID) else { throw HTTPError.unauthorized() }
        metrics.logins.labels("ok").inc()
        return try JSONBody.response(issueTokens(for: user, plan: tenant.plan))
    }

    func refresh(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody.decode(RefreshBody.self, from: request)
        let invalid = HTTPError(.unauthorized, code: "invalid_refresh_token", message: "The refresh token is invalid, expired or revoked.")
        guard body.refreshToken.hasPrefix("rt_"), body.refreshToken.utf8.count <= 128 else { throw invalid }
        let now = Self.now()
        let nextToken = "rt_" + SecureRandom.token(bytes: 32)
        let outcome = try store.rotateRefreshToken(
            SHA256.hash(body.refreshToken), newHash: SHA256.hash(nextToken), newExpiresAt: now + settings.refreshTokenTTL, now: now)
        switch outcome {
        case .rotated(let userID, _):
            guard let user = try store.user(id: userID), let tenant = try store.tenant(id: user.tenantID) else { throw invalid }
            metrics.refreshes.labels("rotated").inc()
            return try JSONBody.response(issueTokens(for: user, plan: tenant.plan, rotatedRefreshToken: nextToken))
        case .reused:
            metrics.refreshes.labels("reused").inc()
            logger.warning("refresh token reused; family revoked")
            throw HTTPError(.unauthorized, code: "refresh_token_reused",
                message: "This refresh token was already used; every session from the same sign-in was revoked.")
        case .unknownOrRevoked, .expired:
            metrics.refreshes.labels("invalid").inc()
            throw invalid
        }
    }

    func logout(_ request: HTTPRequest) throws -> HTTPResponse {
        let body = try JSONBody.decode(RefreshBody.self, from: request)
        // Idempotent and silent: an unknown token answers the same, so logout probes nothing.
        _ = try store.revokeFamily(containing: SHA256.hash(body.refreshToken), reason: "logout", now: Self.now())
        return HTTPResponse(status: .noContent)
    }

    func me(_ context: RequestContext) throws -> HTTPResponse {
        guard let p = context.principal else { throw HTTPError.unauthorized() }
        guard let tenant = try store.tenant(id: p.tenant) else { throw HTTPError.unauthorized() }
        var user: MemberView?
        var role = p.role
        if p.kind == .user {
            let u = try currentUser(context)
            user = MemberView(u)
            role = u.role.rawValue
        }
        return try JSONBody.response(MeAnswer(
            kind: p.kind.rawValue, subject: p.subject, tenant: tenant, user: user, role: role, scopes: p.scopes,
            plan: try store.plan(named: tenant.plan)))
    }
}
