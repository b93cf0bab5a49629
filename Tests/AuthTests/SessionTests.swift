import BulkheadAuth
import BulkheadCrypto
import Foundation
import Testing

@Suite("auth sessions: signup, login, refresh, logout")
struct SessionTests {
    @Test func signupLoginRefreshRotationAndLogout() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup(email: "  Alice@Example.COM ")
            #expect(owner.email == "alice@example.com")

            // The access token is accepted by the Shared verifier with the right claims.
            let claims = try await auth.verifier().verify(owner.access)
            #expect(claims.sub == owner.userID && claims.tenant == owner.tenant && claims.role == "owner")
            #expect(claims.iss == "bulkhead-auth" && claims.aud == ["bulkhead"] && claims.plan == "free")
            #expect(claims.exp - claims.iat == 900)
            let header = try JWT.parse(owner.access).header
            #expect(header.alg == "EdDSA" && header.kid != nil)

            // Login with the normalised e-mail in another case works; me answers.
            let login = try await auth.login("ALICE@example.com", owner.password)
            #expect(login.status == 200, "\(login.text)")
            let access = try #require(login.string("access_token"))
            let me = try await auth.call(.get, "/v1/auth/me", bearer: access)
            #expect(me.status == 200)
            #expect(((me.json["user"] as? [String: Any])?["email"] as? String) == "alice@example.com")
            #expect(((me.json["plan"] as? [String: Any])?["requests_per_minute"] as? Int) == 60)
            #expect(me.json["password_hash"] == nil && !me.text.contains("scrypt$"))

            // Refresh rotates: a new refresh token each time, and the new one works.
            let first = try #require(login.string("refresh_token"))
            let r1 = try await auth.call(.post, "/v1/auth/refresh", json: ["refresh_token": first])
            #expect(r1.status == 200, "\(r1.text)")
            let second = try #require(r1.string("refresh_token"))
            #expect(second != first)
            let r2 = try await auth.call(.post, "/v1/auth/refresh", json: ["refresh_token": second])
            #expect(r2.status == 200)
            let third = try #require(r2.string("refresh_token"))

            // Logout revokes the family: the live refresh token stops working.
            let out = try await auth.call(.post, "/v1/auth/logout", json: ["refresh_token": third])
            #expect(out.status == 204)
            let after = try await auth.call(.post, "/v1/auth/refresh", json: ["refresh_token": third])
            #expect(after.status == 401 && after.errorCode == "invalid_refresh_token")

            // The owner's signup session is a different family and still works.
            let other = try await auth.call(.post, "/v1/auth/refresh", json: ["refresh_token": owner.refresh])
            #expect(other.status == 200)
        }
    }

    @Test func reusingARotatedRefreshTokenRevokesTheWholeFamily() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            let r1 = try await auth.call(.post, "/v1/auth/refresh", json: ["refresh_token": owner.refresh])
            let next = try #require(r1.string("refresh_token"))
            // The stolen old token is replayed: refused, and the legitimate newer one dies too.
            let replay = try await auth.call(.post, "/v1/auth/refresh", json: ["refresh_token": owner.refresh])
            #expect(replay.status == 401 && replay.errorCode == "refresh_token_reused")
            let victim = try await auth.call(.post, "/v1/auth/refresh", json: ["refresh_token": next])
            #expect(victim.status == 401 && victim.errorCode == "invalid_refresh_token")
        }
    }

    @Test func unknownUserAndWrongPasswordGetTheSameAnswer() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            let wrong = try await auth.login(owner.email, "not the password")
            let unknown = try await auth.login("nobody@example.com", "not the password")
            #expect(wrong.status == 401 && unknown.status == 401)
            #expect(wrong.text == unknown.text)
            #expect(wrong.errorCode == "invalid_credentials")
        }
    }

    @Test func signupValidatesWithClearErrors() async throws {
        try await withAuth { auth in
            let short = try await auth.call(.post, "/v1/auth/signup", json: ["tenant_name": "A", "email": "a@b.co", "password": "short"])
            #expect(short.status == 422 && short.errorCode == "weak_password")
            #expect(short.text.contains("at least 10"))
            let badEmail = try await auth.call(.post, "/v1/auth/signup", json: ["tenant_name": "A", "email": "not-an-email", "password": "long enough pw"])
            #expect(badEmail.status == 422 && badEmail.errorCode == "invalid_email")
            let missing = try await auth.call(.post, "/v1/auth/signup", json: ["tenant_name": "A", "password": "long enough pw"])
            #expect(missing.status == 422 && missing.errorCode == "missing_field" && missing.text.contains("'email'"))
            let unknown = try await auth.call(.post, "/v1/auth/signup", json: ["tenant_name": "A", "email": "a@b.co", "password": "long enough pw", "admin": true])
            #expect(unknown.status == 422 && unknown.errorCode == "unknown_field" && unknown.text.contains("'admin'"))
            let wrongType = try await auth.call(.post, "/v1/auth/signup", json: ["tenant_name": 7, "email": "a@b.co", "password": "long enough pw"])
            #expect(wrongType.status == 422 && wrongType.errorCode == "invalid_field" && wrongType.text.contains("'tenant_name'"))
            let malformed = try await auth.call(.post, "/v1/auth/login", raw: Array(#"{"email": "a@b.co", "#.utf8))
            #expect(malformed.status == 400 && malformed.errorCode == "invalid_json")
            let notObject = try await auth.call(.post, "/v1/auth/login", raw: Array("[1,2]".utf8))
            #expect(notObject.status == 400 && notObject.errorCode == "invalid_json")
            let huge = try await auth.call(.post, "/v1/auth/signup", raw: Array(repeating: UInt8(ascii: "a"), count: 64 * 1024))
            #expect(huge.status == 413 && huge.errorCode == "body_too_large")
            _ = try await auth.signup(email: "dup@example.com")
            let dup = try await auth.call(.post, "/v1/auth/signup", json: ["tenant_name": "B", "email": "DUP@example.com", "password": "long enough pw"])
            #expect(dup.status == 409 && dup.errorCode == "email_taken")
        }
    }

    @Test func injectionStringsAreStoredLiterally() async throws {
        try await withAuth { auth in
            let evil = "Robert'); DROP TABLE tenants;-- <script>\"x\"</script> %00 ${jndi}"
            let owner = try await auth.signup(name: evil, email: "o'brien+x@example.com")
            let me = try await auth.call(.get, "/v1/auth/me", bearer: owner.access)
            #expect(((me.json["tenant"] as? [String: Any])?["name"] as? String) == evil)
            #expect(((me.json["user"] as? [String: Any])?["email"] as? String) == "o'brien+x@example.com")
            let login = try await auth.login("o'brien+x@example.com", owner.password)
            #expect(login.status == 200)
            let sqlLogin = try await auth.login("' OR '1'='1", "' OR '1'='1")
            #expect(sqlLogin.status == 401)
            let key = try await auth.call(.post, "/v1/api-keys", json: ["name": evil, "scopes": ["jobs:read"]], bearer: owner.access)
            #expect(key.status == 201 && key.string("name") == evil)
        }
    }
}
