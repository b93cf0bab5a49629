import BulkheadAuth
import BulkheadHTTP
import Foundation
import Shared
import Synchronization
import Testing

@Suite("API keys and internal endpoints")
struct APIKeyTests {
    @Test func createUseListRevoke() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            let created = try await auth.call(.post, "/v1/api-keys", json: ["name": "ci", "scopes": ["jobs:read", "jobs:write"], "expires_in": 3600], bearer: owner.access)
            #expect(created.status == 201, "\(created.text)")
            let key = try #require(created.string("key"))
            let id = try #require(created.string("id"))
            let prefix = try #require(created.string("prefix"))
            #expect(key.hasPrefix("bk_\(prefix)_"))

            // Listed without the secret.
            let list = try await auth.call(.get, "/v1/api-keys", bearer: owner.access)
            #expect(list.status == 200 && list.text.contains(prefix) && !list.text.contains(key))

            // Used: on auth itself, and through the Shared introspector + authenticator.
            let me = try await auth.call(.get, "/v1/auth/me", headers: ["X-API-Key": key])
            #expect(me.status == 200 && me.string("kind") == "api_key" && me.string("subject") == id)
            let introspector = APIKeyIntrospector(authURL: auth.base, internalToken: AuthHarness.internalToken, client: auth.client)
            let principal = try await introspector.principal(for: key)
            #expect(principal == Principal(kind: .apiKey, subject: id, tenant: owner.tenant, role: "api_key", scopes: ["jobs:read", "jobs:write"], plan: "free"))
            let authenticate = BulkheadAuthenticator.make(verifier: auth.verifier(), introspector: introspector)
            let viaHeader = try await authenticate(Self.request(headers: ["Authorization": "Bearer \(key)"]))
            #expect(viaHeader?.subject == id)
            let viaToken = try await authenticate(Self.request(headers: ["Authorization": "Bearer \(owner.access)"]))
            #expect(viaToken?.subject == owner.userID && viaToken?.kind == .user)
            #expect(try await authenticate(Self.request(headers: [:])) == nil)

            // A key cannot manage keys.
            let byKey = try await auth.call(.post, "/v1/api-keys", json: ["name": "x", "scopes": []], bearer: key)
            #expect(byKey.status == 403)

            // Revoked: auth refuses at once.
            let revoke = try await auth.call(.delete, "/v1/api-keys/\(id)", bearer: owner.access)
            #expect(revoke.status == 204)
            let after = try await auth.call(.get, "/v1/auth/me", headers: ["X-API-Key": key])
            #expect(after.status == 401 && after.errorCode == "invalid_token")
            let raw = try await auth.internalCall(.post, "/internal/introspect", json: ["key": key])
            #expect(raw.status == 200 && (raw.json["active"] as? Bool) == false)
            let listed = try await auth.call(.get, "/v1/api-keys", bearer: owner.access)
            #expect(((listed.json["api_keys"] as? [[String: Any]])?.first?["revoked_at"] as? Int) != nil)

            // A wrong secret with a real prefix is inactive.
            let forged = "bk_\(prefix)_" + String(repeating: "A", count: 43)
            #expect(try await auth.internalCall(.post, "/internal/introspect", json: ["key": forged]).json["active"] as? Bool == false)
        }
    }

    @Test func serviceCachesSeeARevocationWithinTenSeconds() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            let created = try await auth.call(.post, "/v1/api-keys", json: ["name": "svc", "scopes": ["*"]], bearer: owner.access)
            let key = try #require(created.string("key"))
            let id = try #require(created.string("id"))
            // A controllable monotonic clock: no sleeping, the TTL is advanced explicitly.
            let offset = Mutex<Duration>(.zero)
            let start = ContinuousClock.now
            let introspector = APIKeyIntrospector(
                authURL: auth.base, internalToken: AuthHarness.internalToken, client: auth.client,
                cacheTTL: .seconds(60), clock: { start + offset.withLock { $0 } })
            #expect(introspector.cacheTTL == .seconds(10))  // clamped to the 10 s bound
            #expect(try await introspector.introspect(key).active)
            #expect(try await introspector.introspect(key).active)
            #expect(introspector.lookupCount == 1)  // the second answer came from the cache

            _ = try await auth.call(.delete, "/v1/api-keys/\(id)", bearer: owner.access)
            offset.withLock { $0 = .seconds(9) }
            #expect(try await introspector.introspect(key).active)  // still cached at 9 s
            offset.withLock { $0 = .milliseconds(10_001) }
            #expect(try await introspector.introspect(key).active == false)  // seen after 10 s
            await #expect(throws: TokenVerificationError.inactiveAPIKey) { try await introspector.principal(for: key) }
        }
    }

    @Test func internalEndpointsNeedTheServiceCredential() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            for (method, path) in [(HTTPMethod.post, "/internal/introspect"), (.get, "/internal/tenants/\(owner.tenant)/plan"), (.post, "/internal/keys/rotate"), (.get, "/internal/plans")] {
                let none = try await auth.call(method, path, json: method == .post ? ["key": "bk_x"] : nil)
                #expect(none.status == 401 && none.errorCode == "internal_auth_required")
                // A user's access token is not the service credential.
                let user = try await auth.call(method, path, json: method == .post ? ["key": "bk_x"] : nil, bearer: owner.access)
                #expect(user.status == 401)
            }
        }
    }

    @Test func plansAreReadableAndChangeable() async throws {
        try await withAuth { auth in
            let owner = try await auth.signup()
            let plan = try await auth.internalCall(.get, "/internal/tenants/\(owner.tenant)/plan")
            #expect(plan.status == 200)
            let limits = try #require(plan.json["plan"] as? [String: Any])
            #expect(limits["name"] as? String == "free")
            for field in ["ai_budget_micro_usd_per_day", "ai_cost_micro_usd_per_minute", "requests_per_minute", "tokens_per_minute", "max_concurrent_jobs"] {
                #expect(limits[field] is Int, "missing \(field)")
            }
            // A custom plan, then the tenant moved onto it; new tokens carry it.
            let custom = try await auth.internalCall(.put, "/internal/plans/startup", json: [
                "ai_budget_micro_usd_per_day": 5_000_000, "ai_cost_micro_usd_per_minute": 500_000, "requests_per_minute": 120,
                "tokens_per_minute": 50_000, "max_concurrent_jobs": 3,
            ])
            #expect(custom.status == 200, "\(custom.text)")
            let moved = try await auth.internalCall(.put, "/internal/tenants/\(owner.tenant)/plan", json: ["plan": "startup"])
            #expect(moved.status == 200 && ((moved.json["plan"] as? [String: Any])?["max_concurrent_jobs"] as? Int) == 3)
            let bad = try await auth.internalCall(.put, "/internal/tenants/\(owner.tenant)/plan", json: ["plan": "nope"])
            #expect(bad.status == 422 && bad.errorCode == "unknown_plan")
            let missing = try await auth.internalCall(.get, "/internal/tenants/ten_missing/plan")
            #expect(missing.status == 404)
            let login = try await auth.login(owner.email, owner.password)
            let claims = try await auth.verifier().verify(try #require(login.string("access_token")))
            #expect(claims.plan == "startup")
        }
    }

    static func request(headers: HTTPHeaders) -> HTTPRequest {
        HTTPRequest(head: HTTPRequestHead(method: .get, target: "/v1/x", headers: headers))
    }
}
