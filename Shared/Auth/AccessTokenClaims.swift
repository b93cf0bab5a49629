import Shared

/// The claims of a Bulkhead access token (a JWT signed with Ed25519 by auth).
///
/// ```swift
/// let claims = AccessTokenClaims(iss: "bulkhead-auth", aud: "bulkhead", sub: userID, tenant: tenantID,
///                                role: "admin", scopes: ["*"], plan: "pro", iat: now, exp: now + 900, jti: id)
/// ```
public struct AccessTokenClaims: Sendable, Equatable, Codable {
    /// Issuer (`AUTH_ISSUER`, default `bulkhead-auth`).
    public var iss: String
    /// Audience (`AUTH_AUDIENCE`, default `bulkhead`). A JSON array is accepted when decoding;
    /// the token is for us when any entry matches.
    public var aud: [String]
    /// The user id.
    public var sub: String
    /// The user's tenant id.
    public var tenant: String
    /// `owner`, `admin` or `member`.
    public var role: String
    public var scopes: [String]
    /// The tenant's plan name at issue time.
    public var plan: String
    /// Issued at, seconds since the Unix epoch.
    public var iat: Int64
    /// Expiry, seconds since the Unix epoch.
    public var exp: Int64
    /// Not before, seconds since the Unix epoch (optional).
    public var nbf: Int64?
    /// Unique token id.
    public var jti: String

    public init(
        iss: String, aud: String, sub: String, tenant: String, role: String, scopes: [String], plan: String,
        iat: Int64, exp: Int64, nbf: Int64? = nil, jti: String
    ) {
        self.iss = iss
        self.aud = [aud]
        self.sub = sub
        self.tenant = tenant
        self.role = role
        self.scopes = scopes
        self.plan = plan
        self.iat = iat
        self.exp = exp
        self.nbf = nbf
        self.jti = jti
    }

    enum CodingKeys: String, CodingKey { case iss, aud, sub, tenant, role, scopes, plan, iat, exp, nbf, jti }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        iss = try c.decode(String.self, forKey: .iss)
        // RFC 7519 §4.1.3: `aud` is a string or an array of strings.
        if let one = try? c.decode(String.self, forKey: .aud) {
            aud = [one]
        } else {
            aud = try c.decode([String].self, forKey: .aud)
        }
        sub = try c.decode(String.self, forKey: .sub)
        tenant = try c.decode(String.self, forKey: .tenant)
        role = try c.decode(String.self, forKey: .role)
        scopes = try c.decode([String].self, forKey: .scopes)
        plan = try c.decode(String.self, forKey: .plan)
        iat = try c.decode(Int64.self, forKey: .iat)
        exp = try c.decode(Int64.self, forKey: .exp)
        nbf = try c.decodeIfPresent(Int64.self, forKey: .nbf)
        jti = try c.decode(String.self, forKey: .jti)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(iss, forKey: .iss)
        if aud.count == 1 { try c.encode(aud[0], forKey: .aud) } else { try c.encode(aud, forKey: .aud) }
        try c.encode(sub, forKey: .sub)
        try c.encode(tenant, forKey: .tenant)
        try c.encode(role, forKey: .role)
        try c.encode(scopes, forKey: .scopes)
        try c.encode(plan, forKey: .plan)
        try c.encode(iat, forKey: .iat)
        try c.encode(exp, forKey: .exp)
        try c.encodeIfPresent(nbf, forKey: .nbf)
        try c.encode(jti, forKey: .jti)
    }

    /// The identity these claims describe.
    public var principal: Principal {
        Principal(kind: .user, subject: sub, tenant: tenant, role: role, scopes: scopes, plan: plan)
    }
}
