import Foundation
import Testing

@Suite("tenant isolation and members")
struct IsolationTests {
    @Test func membersOfTenantACannotReadOrChangeTenantB() async throws {
        try await withAuth { auth in
            let a = try await auth.signup(name: "A")
            let b = try await auth.signup(name: "B")
            let bKey = try await auth.call(.post, "/v1/api-keys", json: ["name": "b", "scopes": []], bearer: b.access)
            let bKeyID = try #require(bKey.string("id"))

            // Every way to touch B's owner or key from A is a 404, the same as a missing id.
            let missing = try await auth.call(.get, "/v1/auth/members/usr_doesnotexist", bearer: a.access)
            #expect(missing.status == 404)
            let read = try await auth.call(.get, "/v1/auth/members/\(b.userID)", bearer: a.access)
            #expect(read.status == 404 && read.text == missing.text)
            let patch = try await auth.call(.patch, "/v1/auth/members/\(b.userID)", json: ["role": "member"], bearer: a.access)
            #expect(patch.status == 404)
            let delete = try await auth.call(.delete, "/v1/auth/members/\(b.userID)", bearer: a.access)
            #expect(delete.status == 404)
            let revoke = try await auth.call(.delete, "/v1/api-keys/\(bKeyID)", bearer: a.access)
            #expect(revoke.status == 404)
            let list = try await auth.call(.get, "/v1/auth/members", bearer: a.access)
            #expect(!list.text.contains(b.userID) && list.text.contains(a.userID))
            let keys = try await auth.call(.get, "/v1/api-keys", bearer: a.access)
            #expect(!keys.text.contains(bKeyID))

            // B is untouched.
            let bMe = try await auth.call(.get, "/v1/auth/members/\(b.userID)", bearer: b.access)
            #expect(bMe.status == 200 && ((bMe.json["role"] as? String) == "owner"))
            let bKeys = try await auth.call(.get, "/v1/api-keys", bearer: b.access)
            #expect(bKeys.text.contains(bKeyID) && !bKeys.text.contains("revoked_at\":1"))
        }
    }

    @Test func rolesGovernMemberManagement() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            let add = try await auth.call(.post, "/v1/auth/members", json: ["email": "m@example.com", "password": "member password", "role": "member"], bearer: owner.access)
            #expect(add.status == 201, "\(add.text)")
            let memberID = try #require(add.string("id"))
            let memberLogin = try await auth.login("m@example.com", "member password")
            let memberToken = try #require(memberLogin.string("access_token"))
            // Members cannot add members or keys.
            let denied = try await auth.call(.post, "/v1/auth/members", json: ["email": "x@example.com", "password": "member password", "role": "admin"], bearer: memberToken)
            #expect(denied.status == 403)
            let noKey = try await auth.call(.post, "/v1/api-keys", json: ["name": "k", "scopes": []], bearer: memberToken)
            #expect(noKey.status == 403)
            // Promoted to admin: the role is re-read, so the same token now may manage.
            let promote = try await auth.call(.patch, "/v1/auth/members/\(memberID)", json: ["role": "admin"], bearer: owner.access)
            #expect(promote.status == 200 && promote.string("role") == "admin")
            let allowed = try await auth.call(.post, "/v1/auth/members", json: ["email": "y@example.com", "password": "member password", "role": "member"], bearer: memberToken)
            #expect(allowed.status == 201)
            // Admins cannot create owners or demote the owner; the last owner stays.
            let noOwner = try await auth.call(.post, "/v1/auth/members", json: ["email": "z@example.com", "password": "member password", "role": "owner"], bearer: memberToken)
            #expect(noOwner.status == 403)
            let demote = try await auth.call(.patch, "/v1/auth/members/\(owner.userID)", json: ["role": "member"], bearer: memberToken)
            #expect(demote.status == 403)
            let selfDemote = try await auth.call(.patch, "/v1/auth/members/\(owner.userID)", json: ["role": "admin"], bearer: owner.access)
            #expect(selfDemote.status == 409 && selfDemote.errorCode == "last_owner")
            let badRole = try await auth.call(.patch, "/v1/auth/members/\(memberID)", json: ["role": "god"], bearer: owner.access)
            #expect(badRole.status == 422)
            // Removed members lose access at once on auth.
            let remove = try await auth.call(.delete, "/v1/auth/members/\(memberID)", bearer: owner.access)
            #expect(remove.status == 204)
            let gone = try await auth.call(.get, "/v1/auth/me", bearer: memberToken)
            #expect(gone.status == 401)
            let unauth = try await auth.call(.get, "/v1/auth/members")
            #expect(unauth.status == 401)
        }
    }
}
