import Shared

/// auth's answer for one API key (`POST /internal/introspect`).
public struct APIKeyIntrospection: Sendable, Codable, Equatable {
    /// False for unknown, revoked or expired keys; the other fields are then absent.
    public var active: Bool
    public var keyId: String?
    public var tenant: String?
    public var scopes: [String]?
    public var plan: String?
    /// Unix seconds, when the key has an expiry.
    public var expiresAt: Int64?

    enum CodingKeys: String, CodingKey {
        case active, tenant, scopes, plan
        case keyId = "key_id"
        case expiresAt = "expires_at"
    }

    public init(active: Bool, keyId: String? = nil, tenant: String? = nil, scopes: [String]? = nil, plan: String? = nil, expiresAt: Int64? = nil) {
        self.active = active
        self.keyId = keyId
        self.tenant = tenant
        self.scopes = scopes
        self.plan = plan
        self.expiresAt = expiresAt
    }

    /// The caller, for an active key.
    public var principal: Principal? {
        guard active, let keyId, let tenant else { return nil }
        return Principal(kind: .apiKey, subject: keyId, tenant: tenant, role: "api_key", scopes: scopes ?? [], plan: plan ?? "free")
    }
}
