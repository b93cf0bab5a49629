import BulkheadCrypto
import BulkheadObservability

/// auth's own settings, read once from the environment (documented in Services/auth/README.md).
struct AuthSettings: Sendable {
    /// `iss` of every access token.
    var issuer: String
    /// `aud` of every access token.
    var audience: String
    /// Access-token lifetime (15 minutes).
    var accessTokenTTL: Int64
    /// Refresh-token lifetime (30 days).
    var refreshTokenTTL: Int64
    /// Target scrypt parameters for new and re-hashed passwords.
    var scrypt: ScryptParameters
    var passwordMinLength: Int
    /// Failed logins per account that cost nothing before delays start.
    var loginFreeAttemptsPerAccount: Int
    /// Failed logins per client address that cost nothing before delays start.
    var loginFreeAttemptsPerAddress: Int
    /// First lockout; doubles with every further failure.
    var loginBaseDelay: Int64
    var loginMaxDelay: Int64
    /// Plan of new tenants.
    var defaultPlan: String
    /// Peers whose `X-Forwarded-For` is believed (the ingress); `AUTH_TRUSTED_PROXIES`.
    var trustedProxies: Set<String>

    static let maxPasswordBytes = 1024

    init(_ env: Environment) {
        issuer = env.string("AUTH_ISSUER", default: "bulkhead-auth")
        audience = env.string("AUTH_AUDIENCE", default: "bulkhead")
        accessTokenTTL = Self.seconds(env.duration("AUTH_ACCESS_TOKEN_TTL", default: .seconds(900)))
        refreshTokenTTL = Self.seconds(env.duration("AUTH_REFRESH_TOKEN_TTL", default: .seconds(30 * 86_400)))
        let logN = env.int("AUTH_SCRYPT_LOG_N", default: 15, range: 10...20)
        scrypt = ScryptParameters(n: 1 << UInt64(logN), r: 8, p: 1, length: 32)
        passwordMinLength = env.int("AUTH_PASSWORD_MIN_LENGTH", default: 10, range: 8...128)
        loginFreeAttemptsPerAccount = env.int("AUTH_LOGIN_FREE_ATTEMPTS", default: 5, range: 1...1000)
        loginFreeAttemptsPerAddress = env.int("AUTH_LOGIN_FREE_ATTEMPTS_PER_ADDRESS", default: 50, range: 1...100_000)
        loginBaseDelay = Self.seconds(env.duration("AUTH_LOGIN_BASE_DELAY", default: .seconds(1)))
        loginMaxDelay = Self.seconds(env.duration("AUTH_LOGIN_MAX_DELAY", default: .seconds(900)))
        defaultPlan = env.string("AUTH_DEFAULT_PLAN", default: "free")
        trustedProxies = Set(env.list("AUTH_TRUSTED_PROXIES", default: ["127.0.0.1", "::1"]))
        if accessTokenTTL < 1 { env.recordProblem("AUTH_ACCESS_TOKEN_TTL must be at least 1s") }
        if refreshTokenTTL < accessTokenTTL { env.recordProblem("AUTH_REFRESH_TOKEN_TTL must be at least AUTH_ACCESS_TOKEN_TTL") }
        if loginBaseDelay < 1 || loginMaxDelay < loginBaseDelay {
            env.recordProblem("AUTH_LOGIN_BASE_DELAY must be at least 1s and at most AUTH_LOGIN_MAX_DELAY")
        }
    }

    private static func seconds(_ d: Duration) -> Int64 { d.components.seconds }
}
