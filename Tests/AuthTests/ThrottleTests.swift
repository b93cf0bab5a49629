import Foundation
import Testing

@Suite("brute-force protection")
struct ThrottleTests {
    @Test func accountLocksWithRetryAfter() async throws {
        try await withAuth(["AUTH_LOGIN_FREE_ATTEMPTS": "3", "AUTH_LOGIN_BASE_DELAY": "60s"]) { auth in
            let owner = try await auth.signup()
            for _ in 0..<3 {
                let r = try await auth.login(owner.email, "wrong password!")
                #expect(r.status == 401)
            }
            // Locked: even the right password gets 429 with Retry-After, without a password check.
            let locked = try await auth.login(owner.email, owner.password)
            #expect(locked.status == 429 && locked.errorCode == "too_many_attempts")
            let retry = try #require(locked.headers.first("retry-after").flatMap { Int($0) })
            #expect(retry > 0 && retry <= 60)
            // Another account from the same address is not locked by this account's failures.
            let other = try await auth.signup()
            let ok = try await auth.login(other.email, other.password)
            #expect(ok.status == 200)
            // Unknown accounts are throttled the same way (no hint that the account does not exist).
            for _ in 0..<3 { _ = try await auth.login("ghost@example.com", "wrong password!") }
            let ghost = try await auth.login("ghost@example.com", "wrong password!")
            #expect(ghost.status == 429 && ghost.headers.first("retry-after") != nil)
        }
    }

    @Test func clientAddressIsLimitedAcrossAccounts() async throws {
        try await withAuth(["AUTH_LOGIN_FREE_ATTEMPTS_PER_ADDRESS": "4", "AUTH_LOGIN_BASE_DELAY": "60s"]) { auth in
            for i in 0..<4 {
                let r = try await auth.login("spray\(i)@example.com", "wrong password!")
                #expect(r.status == 401)
            }
            let blocked = try await auth.login("spray-next@example.com", "wrong password!")
            #expect(blocked.status == 429 && blocked.headers.first("retry-after") != nil)
        }
    }

    @Test func behindTheIngressTheForwardedClientIsLimitedNotTheProxy() async throws {
        // Tests connect from 127.0.0.1, a trusted proxy by default, like the stack's ingress.
        try await withAuth(["AUTH_LOGIN_FREE_ATTEMPTS_PER_ADDRESS": "3", "AUTH_LOGIN_BASE_DELAY": "60s"]) { auth in
            func login(_ i: Int, from client: String) async throws -> Int {
                try await auth.call(
                    .post, "/v1/auth/login", json: ["email": "xff\(i)@example.com", "password": "wrong password!"],
                    headers: ["X-Forwarded-For": "203.0.113.9, \(client)"]
                ).status
            }
            for i in 0..<3 {
                let status = try await login(i, from: "198.51.100.1")
                #expect(status == 401)
            }
            let blocked = try await login(3, from: "198.51.100.1")
            #expect(blocked == 429)
            // Another client behind the same proxy is not punished for the first one.
            let other = try await login(4, from: "198.51.100.2")
            #expect(other == 401)
        }
    }

    @Test func successfulLoginResetsTheAccountCounter() async throws {
        try await withAuth(["AUTH_LOGIN_FREE_ATTEMPTS": "3", "AUTH_LOGIN_BASE_DELAY": "60s"]) { auth in
            let owner = try await auth.signup()
            for _ in 0..<2 { _ = try await auth.login(owner.email, "wrong password!") }
            #expect(try await auth.login(owner.email, owner.password).status == 200)
            for _ in 0..<2 { #expect(try await auth.login(owner.email, "wrong password!").status == 401) }
            #expect(try await auth.login(owner.email, owner.password).status == 200)
        }
    }
}
