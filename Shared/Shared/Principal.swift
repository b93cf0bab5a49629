/// Who is calling: the identity an authenticated request carries through every service.
public struct Principal: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        /// A signed-in user with an access token.
        case user
        /// A tenant's API key.
        case apiKey = "api_key"
        /// Another Bulkhead service with the internal credential.
        case service
    }
    public var kind: Kind
    /// User id, API key id, or service name.
    public var subject: String
    /// The tenant everything this principal touches belongs to ("" for services).
    public var tenant: String
    public var role: String
    public var scopes: [String]
    public var plan: String

    public init(kind: Kind, subject: String, tenant: String, role: String = "member", scopes: [String] = [], plan: String = "free") {
        self.kind = kind
        self.subject = subject
        self.tenant = tenant
        self.role = role
        self.scopes = scopes
        self.plan = plan
    }

    public func hasScope(_ scope: String) -> Bool { scopes.contains(scope) || scopes.contains("*") }
}
