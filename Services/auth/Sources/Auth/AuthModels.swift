/// A customer organisation; everything else belongs to one.
struct Tenant: Sendable, Codable, Equatable {
    var id: String
    var name: String
    var plan: String
    var createdAt: Int64
}

/// A person who signs in, in exactly one tenant.
struct User: Sendable, Equatable {
    var id: String
    var tenantID: String
    /// Normalised (trimmed, lowercased) and unique across tenants, so login needs no tenant.
    var email: String
    /// `ScryptPasswordHash.encoded`: parameters, salt and key together.
    var passwordHash: String
    var role: Role
    var createdAt: Int64
}

/// A member's role inside a tenant.
enum Role: String, Sendable, Codable, CaseIterable {
    case owner, admin, member

    /// Owners and admins manage members and API keys.
    var canManage: Bool { self != .member }
}

/// A plan's limits; services enforce them, auth only stores and hands them out.
struct PlanLimits: Sendable, Codable, Equatable {
    var name: String
    /// AI spend allowed per tenant per day, in millionths of a US dollar.
    var aiBudgetMicroUsdPerDay: Int64
    /// AI spend allowed per minute (burst guard), in micro-dollars.
    var aiCostMicroUsdPerMinute: Int64
    var requestsPerMinute: Int64
    /// Model tokens (prompt plus completion) per minute.
    var tokensPerMinute: Int64
    var maxConcurrentJobs: Int64
}

/// A stored API key: never the key itself, only its visible prefix and the SHA-256 of the whole.
struct APIKeyRecord: Sendable, Equatable {
    var id: String
    var tenantID: String
    var name: String
    var prefix: String
    var secretHash: [UInt8]
    var scopes: [String]
    var createdBy: String
    var createdAt: Int64
    var expiresAt: Int64?
    var revokedAt: Int64?
}

/// A signing key's lifecycle row (the private key itself lives in a 0600 file).
struct SigningKeyRecord: Sendable, Equatable {
    var kid: String
    var createdAt: Int64
    var retiredAt: Int64?
}

/// What presenting a refresh token did.
enum RefreshOutcome: Sendable, Equatable {
    /// Valid: it is now spent and `newHash` replaces it in the same family.
    case rotated(userID: String, familyID: String)
    /// Already rotated once: the family was revoked (token theft is assumed).
    case reused
    case unknownOrRevoked
    case expired
}
