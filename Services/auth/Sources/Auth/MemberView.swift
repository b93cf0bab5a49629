/// A user as the API shows it (never the password hash).
struct MemberView: Encodable, Equatable {
    var id: String
    var tenant: String
    var email: String
    var role: String
    var createdAt: Int64

    init(_ u: User) {
        id = u.id
        tenant = u.tenantID
        email = u.email
        role = u.role.rawValue
        createdAt = u.createdAt
    }
}
