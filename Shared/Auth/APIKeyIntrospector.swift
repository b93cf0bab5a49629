import BulkheadCrypto
import BulkheadHTTP
import BulkheadHTTPClient
import Foundation
import Shared
import Synchronization

/// Resolves API keys (`bk_...`) through auth's `/internal/introspect`, caching every answer,
/// positive or negative, for at most `cacheTTL` (capped at 10 s) so a revocation is seen by
/// every service within 10 s while a hot key costs one call per TTL.
///
/// The cache is keyed by the SHA-256 of the key, so plaintext keys are not kept in memory.
///
/// ```swift
/// let introspector = APIKeyIntrospector(authURL: "http://auth:8081", internalToken: token, client: client)
/// if let principal = try await introspector.principal(for: presentedKey) { ... }
/// ```
public final class APIKeyIntrospector: Sendable {
    /// Calls auth; returns its answer for one key.
    public typealias Lookup = @Sendable (String) async throws -> APIKeyIntrospection
    /// A monotonic clock reading (injectable so the TTL is testable without waiting).
    public typealias Clock = @Sendable () -> ContinuousClock.Instant

    /// The longest an answer may be cached: the revocation bound.
    public static let maximumTTL: Duration = .seconds(10)

    private struct Entry {
        var answer: APIKeyIntrospection
        var expires: ContinuousClock.Instant
    }

    public let cacheTTL: Duration
    /// Entries kept at most (expired ones are dropped first, then everything).
    public let maximumEntries: Int
    private let lookup: Lookup
    private let clock: Clock
    private let cache = Mutex<[[UInt8]: Entry]>([:])
    private let lookups = Atomic<Int>(0)

    /// - Parameter cacheTTL: clamped to `0...maximumTTL`.
    public init(cacheTTL: Duration = .seconds(5), maximumEntries: Int = 10_000, lookup: @escaping Lookup, clock: @escaping Clock = { ContinuousClock.now }) {
        self.cacheTTL = min(max(cacheTTL, .zero), Self.maximumTTL)
        self.maximumEntries = max(1, maximumEntries)
        self.lookup = lookup
        self.clock = clock
    }

    /// An introspector calling `authURL` + `/internal/introspect` with the internal credential.
    public convenience init(
        authURL: String, internalToken: String, client: HTTPClient, cacheTTL: Duration = .seconds(5),
        clock: @escaping Clock = { ContinuousClock.now }
    ) {
        let url = authURL.hasSuffix("/") ? String(authURL.dropLast()) + "/internal/introspect" : authURL + "/internal/introspect"
        self.init(cacheTTL: cacheTTL, lookup: { key in
            let body = try JSONEncoder().encode(["key": key])
            let response = try await client.post(url, json: Array(body), headers: ["Authorization": "Bearer \(internalToken)"])
            let bytes = try await response.body.collect(upTo: 64 * 1024)
            guard response.status.code == 200 else {
                throw TokenVerificationError.keysUnavailable("introspection answered \(response.status.code)")
            }
            return try JSONDecoder().decode(APIKeyIntrospection.self, from: Data(bytes))
        }, clock: clock)
    }

    /// How many times auth was asked (for tests and metrics).
    public var lookupCount: Int { lookups.load(ordering: .relaxed) }

    /// auth's answer for `key`, from the cache when fresh.
    public func introspect(_ key: String) async throws(TokenVerificationError) -> APIKeyIntrospection {
        // Obviously malformed keys never leave the process.
        guard key.hasPrefix("bk_"), key.utf8.count <= 256 else { return APIKeyIntrospection(active: false) }
        let digest = SHA256.hash(key)
        let now = clock()
        if let hit = cache.withLock({ $0[digest] }), hit.expires > now { return hit.answer }
        lookups.add(1, ordering: .relaxed)
        let answer: APIKeyIntrospection
        do { answer = try await lookup(key) } catch let e as TokenVerificationError { throw e } catch {
            throw .keysUnavailable(String(String(describing: error).prefix(200)))
        }
        var expires = clock() + cacheTTL
        // Never cache an active key past its own expiry.
        if answer.active, let exp = answer.expiresAt {
            let left = Double(exp) - Date().timeIntervalSince1970
            if left < 0 { return APIKeyIntrospection(active: false) }
            expires = min(expires, clock() + .milliseconds(Int64(left * 1000)))
        }
        let limit = maximumEntries
        cache.withLock { c in
            if c.count >= limit {
                c = c.filter { $0.value.expires > now }
                if c.count >= limit { c.removeAll(keepingCapacity: true) }
            }
            c[digest] = Entry(answer: answer, expires: expires)
        }
        return answer
    }

    /// The principal for an active key, or throws `.inactiveAPIKey`.
    public func principal(for key: String) async throws(TokenVerificationError) -> Principal {
        guard let p = try await introspect(key).principal else { throw .inactiveAPIKey }
        return p
    }
}
