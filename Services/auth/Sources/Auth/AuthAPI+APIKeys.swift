import BulkheadAuth
import BulkheadCrypto
import BulkheadHTTP
import BulkheadStorage

/// `/v1/api-keys`: keys look like `bk_<8 hex prefix>_<43 base64url chars>`; only the prefix
/// (to recognise a key in lists) and the SHA-256 of the whole key are stored, so the key is
/// shown once, at creation.
extension AuthAPI {
    struct CreateKeyBody: RequestBody {
        static let fields: Set<String> = ["name", "scopes", "expires_in"]
        var name: String
        var scopes: [String]
        /// Seconds from now; absent for a key that does not expire.
        var expiresIn: Int64?
    }

    struct KeyView: Encodable {
        var id: String
        var name: String
        var prefix: String
        var scopes: [String]
        var createdAt: Int64
        var expiresAt: Int64?
        var revokedAt: Int64?
        /// Only in the creation answer.
        var key: String?

        init(_ r: APIKeyRecord, key: String? = nil) {
            id = r.id
            name = r.name
            prefix = r.prefix
            scopes = r.scopes
            createdAt = r.createdAt
            expiresAt = r.expiresAt
            revokedAt = r.revokedAt
            self.key = key
        }
    }

    struct KeyList: Encodable { var apiKeys: [KeyView] }

    static let maxKeysListed = 1000
    static let maxKeyLifetime: Int64 = 10 * 365 * 86_400

    func registerAPIKeyRoutes(into router: inout Router) {
        router.post("/v1/api-keys", bodyLimit: Self.bodyLimit) { [self] request, context in
            let caller = try currentManager(context)
            let body = try JSONBody.decode(CreateKeyBody.self, from: request)
            let name = try Validation.name(body.name, field: "name")
            let scopes = try Validation.scopes(body.scopes)
            if let e = body.expiresIn, !(60...Self.maxKeyLifetime).contains(e) {
                throw JSONBody.invalid("invalid_field", "Field 'expires_in' must be between 60 and \(Self.maxKeyLifetime) seconds.")
            }
            let now = Self.now()
            for _ in 0..<4 {  // 32-bit prefixes may collide; the unique index tells us to draw again.
                let prefix = Hex.encode(SecureRandom.bytes(count: 4))
                let key = "bk_\(prefix)_\(SecureRandom.token(bytes: 32))"
                let record = APIKeyRecord(
                    id: Identifiers.make("key"), tenantID: caller.tenantID, name: name, prefix: prefix, secretHash: SHA256.hash(key),
                    scopes: scopes, createdBy: caller.id, createdAt: now, expiresAt: body.expiresIn.map { now + $0 }, revokedAt: nil)
                do {
                    try store.insert(apiKey: record)
                    return try JSONBody.response(KeyView(record, key: key), status: .created)
                } catch let e as SQLiteError where e.isConstraintViolation {
                    continue
                }
            }
            throw HTTPError(.serviceUnavailable, code: "key_generation_failed", message: "Could not allocate a key prefix; retry.")
        }
        router.get("/v1/api-keys") { [self] _, context in
            let caller = try currentUser(context)
            return try JSONBody.response(KeyList(apiKeys: store.apiKeys(tenantID: caller.tenantID, limit: Self.maxKeysListed).map { KeyView($0) }))
        }
        router.delete("/v1/api-keys/{id}") { [self] _, context in
            let caller = try currentManager(context)
            guard try store.revokeAPIKey(id: context.parameter("id"), tenantID: caller.tenantID, now: Self.now()) else {
                throw HTTPError.notFound("No such API key.")
            }
            return HTTPResponse(status: .noContent)
        }
    }

    /// Resolves a presented key: prefix lookup, then a constant-time hash comparison.
    func introspect(key: String) throws -> APIKeyIntrospection {
        let inactive = APIKeyIntrospection(active: false)
        let parts = key.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard key.utf8.count <= 256, parts.count == 3, parts[0] == "bk", parts[1].utf8.count == 8,
            let record = try store.apiKey(prefix: String(parts[1]))
        else {
            metrics.introspections.labels("inactive").inc()
            return inactive
        }
        let now = Self.now()
        guard ConstantTime.equals(SHA256.hash(key), record.secretHash), record.revokedAt == nil,
            record.expiresAt.map({ $0 > now }) ?? true,
            let tenant = try store.tenant(id: record.tenantID)
        else {
            metrics.introspections.labels("inactive").inc()
            return inactive
        }
        metrics.introspections.labels("active").inc()
        return APIKeyIntrospection(active: true, keyId: record.id, tenant: tenant.id, scopes: record.scopes, plan: tenant.plan, expiresAt: record.expiresAt)
    }
}
