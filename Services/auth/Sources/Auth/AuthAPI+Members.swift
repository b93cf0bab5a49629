import BulkheadHTTP
import BulkheadService

/// `/v1/auth/members`: owners and admins add, change and remove users of their own tenant.
/// Every lookup is scoped to the caller's tenant, so another tenant's user is a 404.
extension AuthAPI {
    struct AddMemberBody: RequestBody {
        static let fields: Set<String> = ["email", "password", "role"]
        var email: String
        var password: String
        var role: String
    }

    struct ChangeMemberBody: RequestBody {
        static let fields: Set<String> = ["role"]
        var role: String
    }

    struct MemberList: Encodable {
        var members: [MemberView]
        var nextAfter: String?
    }

    static let maxPageSize = 200

    func registerMemberRoutes(into router: inout Router) {
        router.get("/v1/auth/members") { [self] request, context in
            let caller = try currentUser(context)
            let limit = try Self.pageSize(request.queryParameters["limit"])
            let page = try store.users(tenantID: caller.tenantID, limit: limit, after: request.queryParameters["after"])
            return try JSONBody.response(MemberList(members: page.map(MemberView.init), nextAfter: page.count == limit ? page.last?.id : nil))
        }
        router.post("/v1/auth/members", bodyLimit: Self.bodyLimit) { [self] request, context in
            let caller = try currentManager(context)
            let body = try JSONBody.decode(AddMemberBody.self, from: request)
            let email = try Validation.email(body.email)
            let role = try Validation.role(body.role)
            try Validation.password(body.password, minimum: settings.passwordMinLength)
            guard role != .owner || caller.role == .owner else { throw HTTPError.forbidden("Only owners can add owners.") }
            do {
                let password = body.password
                let hash = try await BlockingWork.run { try self.hashPassword(password) }
                let user = try store.addUser(tenantID: caller.tenantID, email: email, passwordHash: hash, role: role, now: Self.now())
                return try JSONBody.response(MemberView(user), status: .created)
            } catch AuthStoreError.emailTaken {
                throw HTTPError(.conflict, code: "email_taken", message: "An account with this e-mail already exists.")
            }
        }
        router.get("/v1/auth/members/{id}") { [self] _, context in
            let caller = try currentUser(context)
            guard let user = try store.user(id: context.parameter("id"), tenantID: caller.tenantID) else { throw Self.noMember }
            return try JSONBody.response(MemberView(user))
        }
        router.patch("/v1/auth/members/{id}", bodyLimit: Self.bodyLimit) { [self] request, context in
            let caller = try currentManager(context)
            guard let target = try store.user(id: context.parameter("id"), tenantID: caller.tenantID) else { throw Self.noMember }
            let role = try Validation.role(JSONBody.decode(ChangeMemberBody.self, from: request).role)
            try checkCanChange(target, by: caller, to: role)
            try store.setRole(userID: target.id, tenantID: caller.tenantID, role: role)
            var changed = target
            changed.role = role
            return try JSONBody.response(MemberView(changed))
        }
        router.delete("/v1/auth/members/{id}") { [self] _, context in
            let caller = try currentManager(context)
            guard let target = try store.user(id: context.parameter("id"), tenantID: caller.tenantID) else { throw Self.noMember }
            try checkCanChange(target, by: caller, to: nil)
            _ = try store.deleteUser(id: target.id, tenantID: caller.tenantID)
            return HTTPResponse(status: .noContent)
        }
    }

    static let noMember = HTTPError.notFound("No such member.")

    /// Admins cannot touch owners or make owners; a tenant always keeps one owner.
    private func checkCanChange(_ target: User, by caller: User, to role: Role?) throws {
        if caller.role != .owner && (target.role == .owner || role == .owner) {
            throw HTTPError.forbidden("Only owners can change owners.")
        }
        if target.role == .owner && role != .owner, try store.ownerCount(tenantID: target.tenantID) <= 1 {
            throw HTTPError(.conflict, code: "last_owner", message: "A tenant must keep at least one owner.")
        }
    }

    static func pageSize(_ raw: String?) throws -> Int {
        guard let raw else { return 50 }
        guard let n = Int(raw), (1...maxPageSize).contains(n) else {
            throw HTTPError.badRequest("Query 'limit' must be an integer from 1 to \(maxPageSize).", code: "invalid_query")
        }
        return n
    }
}
