import BulkheadCrypto
import BulkheadHTTP
import BulkheadHTTPClient
import Foundation
import Shared
import Synchronization

/// Verifies Bulkhead access tokens locally, with auth's public keys (JWKS) cached in memory.
///
/// Every service builds one at start and calls `verify` per request; auth is only called to
/// fetch keys: the first time, when a token names a `kid` the cache does not know (at most once
/// per `minimumRefreshInterval`, so garbage `kid`s cannot hammer auth), and when the cached set
/// is older than `maximumKeyAge` (a failure then keeps the old keys).
///
/// Checks, in order: size and shape, `alg == EdDSA` (so `none`, `HS256` and any key-confusion
/// trick is refused before a key is touched), `kid` known, Ed25519 signature, `iss`, `aud`,
/// `exp` and `nbf` with `leeway`.
///
/// ```swift
/// let verifier = AccessTokenVerifier(jwksURL: "http://auth:8081/.well-known/jwks.json", client: client)
/// let claims = try await verifier.verify(token)
/// ```
public final class AccessTokenVerifier: Sendable {
    /// Where the key set comes from (HTTP in services, an in-process closure inside auth and tests).
    public typealias KeySource = @Sendable () async throws -> JSONWebKeySet
    /// Seconds since the Unix epoch (injectable so expiry is testable without waiting).
    public typealias UnixClock = @Sendable () -> Int64

    /// What a valid token must say and how the cache behaves.
    public struct Configuration: Sendable {
        /// Accepted `iss` (auth's `AUTH_ISSUER`).
        public var issuer: String
        /// Required `aud` entry (auth's `AUTH_AUDIENCE`).
        public var audience: String
        /// Clock skew allowed on `exp` and `nbf`, in seconds.
        public var leeway: Int64
        /// Least time between two fetches of the key set.
        public var minimumRefreshInterval: Duration
        /// Cached keys older than this are refreshed on the next request.
        public var maximumKeyAge: Duration

        public init(
            issuer: String = "bulkhead-auth", audience: String = "bulkhead", leeway: Int64 = 60,
            minimumRefreshInterval: Duration = .seconds(5), maximumKeyAge: Duration = .seconds(300)
        ) {
            self.issuer = issuer
            self.audience = audience
            self.leeway = leeway
            self.minimumRefreshInterval = minimumRefreshInterval
            self.maximumKeyAge = maximumKeyAge
        }
    }

    private struct State {
        var keys: [String: Ed25519PublicKey] = [:]
        var fetchedAt: ContinuousClock.Instant?
        var lastAttempt: ContinuousClock.Instant?
        var inFlight: Task<[String: Ed25519PublicKey], any Error>?
        var fetchCount = 0
    }

    public let configuration: Configuration
    private let keySource: KeySource
    private let now: UnixClock
    private let state = Mutex(State())

    /// - Parameters:
    ///   - keySource: returns the current key set.
    ///   - now: the clock for `exp`/`nbf`; the system clock by default.
    public init(configuration: Configuration = Configuration(), keySource: @escaping KeySource, now: @escaping UnixClock = AccessTokenVerifier.systemClock) {
        self.configuration = configuration
        self.keySource = keySource
        self.now = now
    }

    /// A verifier fetching `jwksURL` with `client`.
    public convenience init(
        jwksURL: String, client: HTTPClient, configuration: Configuration = Configuration(),
        now: @escaping UnixClock = AccessTokenVerifier.systemClock
    ) {
        self.init(configuration: configuration, keySource: Self.httpKeySource(url: jwksURL, client: client), now: now)
    }

    /// The wall clock in whole seconds.
    public static let systemClock: UnixClock = { Int64(Date().timeIntervalSince1970) }

    /// Fetches a JWKS document over HTTP (5 s deadline, 256 KiB at most).
    public static func httpKeySource(url: String, client: HTTPClient, timeout: Duration = .seconds(5)) -> KeySource {
        {
            let response = try await client.execute(HTTPClientRequest(method: .get, url: url), timeout: timeout)
            let body = try await response.body.collect(upTo: 256 * 1024)
            guard response.status.code == 200 else {
                throw TokenVerificationError.keysUnavailable("JWKS endpoint answered \(response.status.code)")
            }
            return try JSONDecoder().decode(JSONWebKeySet.self, from: Data(body))
        }
    }

    /// How many times the key set was fetched (for tests and metrics).
    public var fetchCount: Int { state.withLock { $0.fetchCount } }

    /// Verifies `token` and returns its claims.
    /// - Throws: `TokenVerificationError` (use `.httpError` to answer).
    public func verify(_ token: String) async throws(TokenVerificationError) -> AccessTokenClaims {
        let parsed = try JWT.parse(token)
        guard let kid = parsed.header.kid, !kid.isEmpty, kid.utf8.count <= 128 else {
            throw .malformed("header has no 'kid'")
        }
        let key = try await key(for: kid)
        guard key.isValidSignature(parsed.signature, for: parsed.signingInput) else { throw .badSignature }
        let claims = parsed.claims
        guard ConstantTime.equals(claims.iss, configuration.issuer) else { throw .wrongIssuer }
        guard claims.aud.contains(configuration.audience) else { throw .wrongAudience }
        let t = now()
        guard t <= claims.exp + configuration.leeway else { throw .expired }
        if let nbf = claims.nbf, t + configuration.leeway < nbf { throw .notYetValid }
        // A token issued in the future beyond the leeway is as suspicious as an early `nbf`.
        guard claims.iat <= t + configuration.leeway else { throw .notYetValid }
        return claims
    }

    /// Verifies `token` and returns who it names.
    public func principal(for token: String) async throws(TokenVerificationError) -> Principal {
        try await verify(token).principal
    }

    /// The cached key for `kid`, refreshing the set when it is unknown or old.
    private func key(for kid: String) async throws(TokenVerificationError) -> Ed25519PublicKey {
        let maxAge = configuration.maximumKeyAge
        let (cached, stale) = state.withLock { s -> (Ed25519PublicKey?, Bool) in
            let stale = s.fetchedAt.map { ContinuousClock.now - $0 > maxAge } ?? true
            return (s.keys[kid], stale)
        }
        if let cached, !stale { return cached }
        do {
            try await refresh()
        } catch {
            // An old but known key keeps working while auth is unreachable.
            if let cached { return cached }
            throw error
        }
        guard let key = state.withLock({ $0.keys[kid] }) else { throw .unknownKey(String(kid.prefix(64))) }
        return key
    }

    /// Fetches the key set unless a fetch is running (then waits for it) or happened too recently.
    private func refresh() async throws(TokenVerificationError) {
        let interval = configuration.minimumRefreshInterval
        let source = keySource
        let task = state.withLock { s -> Task<[String: Ed25519PublicKey], any Error>? in
            if let running = s.inFlight { return running }
            let now = ContinuousClock.now
            if let last = s.lastAttempt, now - last < interval { return nil }
            s.lastAttempt = now
            s.fetchCount += 1
            let t = Task { try await source().ed25519Keys() }
            s.inFlight = t
            return t
        }
        guard let task else { return }
        do {
            let keys = try await task.value
            state.withLock { s in
                if s.inFlight == task {
                    s.inFlight = nil
                    s.keys = keys
                    s.fetchedAt = ContinuousClock.now
                }
            }
        } catch {
            state.withLock { s in if s.inFlight == task { s.inFlight = nil } }
            if let e = error as? TokenVerificationError { throw e }
            throw .keysUnavailable(String(describing: error).prefix(200).description)
        }
    }
}
