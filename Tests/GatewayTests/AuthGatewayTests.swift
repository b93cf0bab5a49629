import BulkheadService
import Foundation
import InferenceGateway
import Testing

/// Authentication on `/v1/` of a real gateway against a real auth, errors in OpenAI's shape.
@Suite("Tenancy: authentication", .serialized)
struct AuthGatewayTests {
    /// Asserts an OpenAI-shaped error: `{"error":{"message","type","param","code"}}`.
    static func expectOpenAIError(_ r: TenancyTest.Reply, status: Int, type: String, code: String?, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == status, "\(r.text)", sourceLocation: sourceLocation)
        let error = r.json?["error"]
        #expect(error?["type"]?.stringValue == type, "\(r.text)", sourceLocation: sourceLocation)
        #expect(error?["message"]?.stringValue?.isEmpty == false, sourceLocation: sourceLocation)
        #expect(error?.objectValue?.keys.contains("param") == true, "param must be present (null)", sourceLocation: sourceLocation)
        if let code { #expect(error?["code"]?.stringValue == code, "\(r.text)", sourceLocation: sourceLocation) }
    }

    @Test func credentialsAreCheckedAndErrorsSpeakOpenAI() async throws {
        let auth = try await TenancyTest.startAuth()
        let gateway = try await ServiceHost.start(InferenceGatewayService.self, environment: TenancyTest.environment(["AUTH_URL": auth.baseURL]))
        let account = try await TenancyTest.signUp(auth, name: "Acme")
        let readOnly = try await TenancyTest.signUp(auth, name: "ReadOnly", scopes: ["usage:read"])
        let models = gateway.baseURL + "/v1/models"

        Self.expectOpenAIError(try await TenancyTest.call(.get, models), status: 401, type: "authentication_error", code: "missing_api_key")
        let garbage = try await TenancyTest.call(.get, models, bearer: "not-a-jwt")
        Self.expectOpenAIError(garbage, status: 401, type: "authentication_error", code: "invalid_api_key")
        #expect(garbage.header("www-authenticate") != nil)
        // A token signed by nobody auth knows: right shape, wrong key id.
        let parts = account.accessToken.split(separator: ".")
        let forged = parts[0] + "." + parts[1] + ".AAAA"
        Self.expectOpenAIError(try await TenancyTest.call(.get, models, bearer: String(forged)), status: 401, type: "authentication_error", code: "invalid_api_key")
        Self.expectOpenAIError(try await TenancyTest.call(.get, models, bearer: "bk_not_a_real_key_0000000000"), status: 401, type: "authentication_error", code: "invalid_api_key")

        // Access token, API key (both header styles) and the internal credential all work.
        #expect(try await TenancyTest.call(.get, models, bearer: account.accessToken).status == 200)
        #expect(try await TenancyTest.call(.get, models, bearer: account.apiKey).status == 200)
        #expect(try await TenancyTest.call(.get, models, headers: [("X-API-Key", account.apiKey)]).status == 200)
        #expect(try await TenancyTest.call(.get, models, bearer: TenancyTest.internalToken).status == 200)
        // A service may name the tenant it acts for (accounting only); a malformed name is refused.
        #expect(try await TenancyTest.call(.get, models, bearer: TenancyTest.internalToken, headers: [("X-Bulkhead-Tenant", account.tenant)]).status == 200)
        Self.expectOpenAIError(
            try await TenancyTest.call(.get, models, bearer: TenancyTest.internalToken, headers: [("X-Bulkhead-Tenant", "no spaces/here")]),
            status: 400, type: "invalid_request_error", code: "invalid_tenant")

        // Calling a model needs ai:invoke.
        let denied = try await TenancyTest.call(
            .post, gateway.baseURL + "/v1/embeddings", bearer: readOnly.apiKey, json: #"{"model":"all-minilm-l6-v2","input":"hi"}"#)
        Self.expectOpenAIError(denied, status: 403, type: "permission_error", code: "insufficient_scope")

        // The runtime's own errors under /v1/ come out in OpenAI's shape too (code kept).
        Self.expectOpenAIError(
            try await TenancyTest.call(.get, gateway.baseURL + "/v1/nowhere", bearer: account.apiKey), status: 404, type: "invalid_request_error",
            code: "not_found")
        let wrongMethod = try await TenancyTest.call(.delete, models, bearer: account.apiKey)
        Self.expectOpenAIError(wrongMethod, status: 405, type: "invalid_request_error", code: "method_not_allowed")
        #expect(wrongMethod.header("allow") != nil)
        // Health, readiness and metrics stay open.
        #expect(try await TenancyTest.call(.get, gateway.baseURL + "/healthz").status == 200)
        #expect(try await TenancyTest.call(.get, gateway.baseURL + "/metrics").status == 200)
        await gateway.shutdown()
        await auth.shutdown()
    }

    @Test func aRevokedOrUnknownKeyIsRefusedAndAuthDownIs503() async throws {
        let auth = try await TenancyTest.startAuth()
        let gateway = try await ServiceHost.start(
            InferenceGatewayService.self, environment: TenancyTest.environment(["AUTH_URL": auth.baseURL, "GATEWAY_API_KEY_CACHE_TTL": "0s"]))
        let account = try await TenancyTest.signUp(auth, name: "Gone")
        #expect(try await TenancyTest.call(.get, gateway.baseURL + "/v1/models", bearer: account.apiKey).status == 200)
        await auth.shutdown()
        // Keys cannot be introspected while auth is down: 503 api_error, not a misleading 401.
        let down = try await TenancyTest.call(.get, gateway.baseURL + "/v1/models", bearer: account.apiKey)
        Self.expectOpenAIError(down, status: 503, type: "api_error", code: "auth_unavailable")
        await gateway.shutdown()
    }
}
