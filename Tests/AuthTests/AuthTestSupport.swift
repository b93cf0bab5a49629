import Auth
import BulkheadAuth
import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
import Foundation
import Testing

/// A running auth service on port 0 plus a client to drive it over real HTTP.
final class AuthHarness: Sendable {
    static let internalToken = "test-internal-token"
    let host: ServiceHost
    let client: HTTPClient
    let dataDirectory: String

    init(_ extra: [String: String] = [:]) async throws {
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-auth-\(UUID().uuidString)").path
        var values = [
            "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dataDirectory, "BULKHEAD_INTERNAL_TOKEN": Self.internalToken,
            "LOOP_THREADS": "1", "LOG_LEVEL": "error", "ACCESS_LOG": "false", "AUTH_SCRYPT_LOG_N": "10",
        ]
        for (k, v) in extra { values[k] = v }
        host = try await ServiceHost.start(AuthService.self, environment: Environment(values))
        client = try HTTPClient()
    }

    var base: String { "http://127.0.0.1:\(host.port)" }

    func stop() async {
        await client.shutdown()
        await host.shutdown()
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var json: [String: Any] { ((try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]) ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var text: String { String(decoding: body, as: UTF8.self) }
        func string(_ key: String) -> String? { json[key] as? String }
    }

    /// One request; `json` is sent as the body, `bearer` as `Authorization: Bearer`.
    func call(_ method: HTTPMethod, _ path: String, json: Any? = nil, raw: [UInt8]? = nil, bearer: String? = nil, headers: HTTPHeaders = HTTPHeaders()) async throws -> Reply {
        var request = HTTPClientRequest(method: method, url: base + path, headers: headers)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.body = Array(try JSONSerialization.data(withJSONObject: json))
            request.headers.add(name: "Content-Type", value: "application/json")
        } else if let raw {
            request.body = raw
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await client.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: response.status.code, headers: response.headers, body: body)
    }

    func internalCall(_ method: HTTPMethod, _ path: String, json: Any? = nil) async throws -> Reply {
        try await call(method, path, json: json, bearer: Self.internalToken)
    }

    struct Account {
        var tenant: String
        var userID: String
        var email: String
        var password: String
        var access: String
        var refresh: String
    }

    /// Signs up a fresh tenant and returns its owner's tokens.
    func signup(name: String = "Acme", email: String? = nil, password: String = "correct horse battery") async throws -> Account {
        let email = email ?? "owner-\(UUID().uuidString.prefix(8))@example.com"
        let r = try await call(.post, "/v1/auth/signup", json: ["tenant_name": name, "email": email, "password": password])
        try #require(r.status == 201, "signup: \(r.text)")
        let tenant = try #require((r.json["tenant"] as? [String: Any])?["id"] as? String)
        let user = try #require(r.json["user"] as? [String: Any])
        return Account(tenant: tenant, userID: try #require(user["id"] as? String), email: try #require(user["email"] as? String), password: password,
            access: try #require(r.string("access_token")), refresh: try #require(r.string("refresh_token")))
    }

    func login(_ email: String, _ password: String) async throws -> Reply {
        try await call(.post, "/v1/auth/login", json: ["email": email, "password": password])
    }

    /// A verifier that fetches this service's JWKS over HTTP, like every other service.
    func verifier(now: @escaping AccessTokenVerifier.UnixClock = AccessTokenVerifier.systemClock, refreshInterval: Duration = .zero) -> AccessTokenVerifier {
        AccessTokenVerifier(jwksURL: base + "/.well-known/jwks.json", client: client,
            configuration: .init(minimumRefreshInterval: refreshInterval), now: now)
    }
}

/// Runs `body` against a fresh auth service and always stops it.
func withAuth<T>(_ extra: [String: String] = [:], _ body: (AuthHarness) async throws -> T) async throws -> T {
    let harness = try await AuthHarness(extra)
    do {
        let value = try await body(harness)
        await harness.stop()
        return value
    } catch {
        await harness.stop()
        throw error
    }
}
