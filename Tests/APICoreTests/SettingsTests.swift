import BulkheadHTTP
import Foundation
import Shared
import Testing

/// `/v1/me/settings` and `/v1/tenant/settings`: ETag/If-Match, merge patch, limits, roles.
@Suite("api-core settings")
struct SettingsTests {
    @Test func userSettingsWithETagsAndMergePatch() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let empty = try await s.call(.get, "/v1/me/settings", bearer: a.access)
            #expect(empty.status == 200 && empty.json == .object([:]) && empty.header("etag") == "\"0\"")

            let put = try await s.call(.put, "/v1/me/settings", json: ["theme": "dark", "ai": ["model": "sim-small", "temperature": 0.2]], bearer: a.access)
            #expect(put.status == 200 && put.header("etag") == "\"1\"")
            #expect(put.json["ai"]?["model"]?.stringValue == "sim-small")

            // A stale If-Match loses, naming the current version.
            let stale = try await s.call(.put, "/v1/me/settings", json: ["theme": "light"], bearer: a.access, headers: ["If-Match": "\"0\""])
            #expect(stale.status == 412 && stale.errorCode == "precondition_failed" && stale.header("etag") == "\"1\"")

            // RFC 7396: null removes, objects merge, scalars replace.
            let patch = try await s.call(
                .patch, "/v1/me/settings", json: ["theme": NSNull(), "ai": ["temperature": 0.7], "lang": "fr"], bearer: a.access,
                headers: ["If-Match": "\"1\""])
            #expect(patch.status == 200 && patch.header("etag") == "\"2\"")
            #expect(patch.json == .object(["ai": .object(["model": .string("sim-small"), "temperature": .number(0.7)]), "lang": .string("fr")]))
            let read = try await s.call(.get, "/v1/me/settings", bearer: a.access)
            #expect(read.json == patch.json && read.header("etag") == "\"2\"")

            // Limits and shapes.
            #expect(try await s.call(.put, "/v1/me/settings", json: [1, 2], bearer: a.access).errorCode == "invalid_settings")
            var deep: Any = ["x": 1]
            for _ in 0..<8 { deep = ["n": deep] }
            let tooDeep = try await s.call(.put, "/v1/me/settings", json: deep, bearer: a.access)
            #expect(tooDeep.status == 422 && tooDeep.errorCode == "settings_too_deep")
            let big = try await s.call(.put, "/v1/me/settings", json: ["blob": String(repeating: "x", count: 20_000)], bearer: a.access)
            #expect(big.status == 413 && big.errorCode == "settings_too_large")
            let notJSON = try await s.call(.put, "/v1/me/settings", raw: Array("{oops".utf8), bearer: a.access)
            #expect(notJSON.status == 400 && notJSON.errorCode == "invalid_json")
            let badTag = try await s.call(.put, "/v1/me/settings", json: [:] as [String: Any], bearer: a.access, headers: ["If-Match": "W/\"2\""])
            #expect(badTag.status == 400 && badTag.errorCode == "invalid_if_match")
            #expect(try await s.call(.get, "/v1/me/settings").status == 401)

            // Each user has their own document.
            let b = try await s.signup()
            #expect(try await s.call(.get, "/v1/me/settings", bearer: b.access).json == .object([:]))
        }
    }

    @Test func tenantSettingsNeedAnAdminToWriteAndAPIKeysHaveNoPersonalSettings() async throws {
        try await withStack { s in
            let owner = try await s.signup()
            let put = try await s.call(.put, "/v1/tenant/settings", json: ["brand": "acme"], bearer: owner.access)
            #expect(put.status == 200 && put.header("etag") == "\"1\"")

            let memberEmail = "member-\(UUID().uuidString.prefix(6))@example.com"
            let added = try await s.call(
                .post, "/v1/auth/members", json: ["email": memberEmail, "password": "correct horse battery", "role": "member"], bearer: owner.access,
                base: s.authBase)
            try #require(added.status == 201, "\(added.text)")
            let login = try await s.call(.post, "/v1/auth/login", json: ["email": memberEmail, "password": "correct horse battery"], base: s.authBase)
            let member = try #require(login.json["access_token"]?.stringValue)
            #expect(try await s.call(.get, "/v1/tenant/settings", bearer: member).json == .object(["brand": .string("acme")]))
            let denied = try await s.call(.patch, "/v1/tenant/settings", json: ["brand": "evil"], bearer: member)
            #expect(denied.status == 403 && denied.errorCode == "forbidden")

            let key = try await s.call(.post, "/v1/api-keys", json: ["name": "ci", "scopes": ["settings:read", "jobs:read"]], bearer: owner.access, base: s.authBase)
            let apiKey = try #require(key.json["key"]?.stringValue, "\(key.text)")
            let mine = try await s.call(.get, "/v1/me/settings", bearer: apiKey)
            #expect(mine.status == 403 && mine.errorCode == "user_required")
            #expect(try await s.call(.get, "/v1/tenant/settings", bearer: apiKey).status == 200)
            let scope = try await s.call(.put, "/v1/tenant/settings", json: [:] as [String: Any], bearer: apiKey)
            #expect(scope.status == 403 && scope.errorCode == "insufficient_scope")
        }
    }
}
