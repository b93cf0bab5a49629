import Auth
import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
@testable import BulkheadService
import Foundation
@testable import InferenceGateway
import QueueBroker
import Shared

/// Shared helpers of the tenancy tests: in-process services on port 0, tenants in a real auth,
/// and a small JSON-over-HTTP client.
enum TenancyTest {
    static let internalToken = "tenancy-test-internal-token"

    static func environment(_ extra: [String: String] = [:]) -> Environment {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gw-tenancy-\(UUID().uuidString)").path
        var values = [
            "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": internalToken, "LOOP_THREADS": "1",
            "LOG_LEVEL": "error", "ACCESS_LOG": "false", "AUTH_SCRYPT_LOG_N": "10",
        ]
        for (k, v) in extra { values[k] = v }
        return Environment(values)
    }

    /// A `ServiceContext` like the one the scaffolding hands `build`, for building tenancy parts directly.
    static func context(_ extra: [String: String] = [:]) -> ServiceContext {
        let env = environment(extra)
        let configuration = ServiceConfiguration(name: "inference-gateway", defaultPort: 0, environment: env)
        return ServiceContext(
            configuration: configuration, environment: env, logger: Logger(service: "gw-test", minimumLevel: .error),
            metrics: MetricsRegistry(includeProcessMetrics: false))
    }

    static func localModels() -> LocalProvider {
        LocalProvider(directory: nil, batching: .init(window: .milliseconds(1), maxBatchSize: 8))
    }

    static func startAuth() async throws -> ServiceHost { try await ServiceHost.start(AuthService.self, environment: environment()) }
    static func startBroker() async throws -> ServiceHost {
        try await ServiceHost.start(QueueBrokerService.self, environment: environment(["QUEUE_SYNCHRONOUS": "normal"]))
    }

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }
        func header(_ name: String) -> String? { headers.first(name) }
    }

    /// One client for every test (nil only if the system refused an event loop; calls then throw).
    static let sharedClient: HTTPClient? = {
        var c = HTTPClient.Configuration()
        c.threadName = "tenancy-test-client"
        c.requestTimeout = .seconds(30)
        c.maxConnectionsPerHost = 128
        return try? HTTPClient(configuration: c)
    }()

    static func call(
        _ method: HTTPMethod, _ url: String, bearer: String? = nil, headers: [(String, String)] = [], json: String? = nil
    ) async throws -> Reply {
        var h = HTTPHeaders(headers)
        if let bearer { h.add(name: "Authorization", value: "Bearer \(bearer)") }
        if json != nil { h.add(name: "Content-Type", value: "application/json") }
        guard let client = sharedClient else { throw TestFailure("no HTTP client") }
        let response = try await client.execute(HTTPClientRequest(method: method, url: url, headers: h, body: Array((json ?? "").utf8)), timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 8 << 20)
        return Reply(status: response.status.code, headers: response.headers, body: body)
    }

    static func internalCall(_ method: HTTPMethod, _ url: String, json: String? = nil) async throws -> Reply {
        try await call(method, url, bearer: internalToken, json: json)
    }

    /// A tenant with its owner's access token and an API key with `scopes`.
    struct TenantAccount: Sendable {
        var tenant: String
        var accessToken: String
        var apiKey: String
    }

    static func signUp(_ auth: ServiceHost, name: String, scopes: [String] = ["ai:invoke"]) async throws -> TenantAccount {
        let email = "\(name.lowercased())-\(UUID().uuidString.prefix(8))@example.com"
        let signup = try await call(
            .post, auth.baseURL + "/v1/auth/signup", json: #"{"tenant_name":"\#(name)","email":"\#(email)","password":"correct horse battery"}"#)
        guard signup.status == 201, let tenant = signup.json?["tenant"]?["id"]?.stringValue, let token = signup.json?["access_token"]?.stringValue else {
            throw TestFailure("signup failed: \(signup.status) \(signup.text)")
        }
        let scopeList = scopes.map { "\"\($0)\"" }.joined(separator: ",")
        let key = try await call(.post, auth.baseURL + "/v1/api-keys", bearer: token, json: #"{"name":"k","scopes":[\#(scopeList)]}"#)
        guard key.status == 201, let apiKey = key.json?["key"]?.stringValue else { throw TestFailure("api key failed: \(key.status) \(key.text)") }
        return TenantAccount(tenant: tenant, accessToken: token, apiKey: apiKey)
    }

    /// Defines plan `name` with these limits and moves `tenant` onto it.
    static func setPlan(
        _ auth: ServiceHost, tenant: String, name: String, requestsPerMinute: Int = 600, tokensPerMinute: Int = 200_000,
        costPerMinute: Int = 2_000_000, budgetPerDay: Int = 50_000_000, concurrentJobs: Int = 10
    ) async throws {
        let plan = try await internalCall(
            .put, auth.baseURL + "/internal/plans/\(name)",
            json: #"{"ai_budget_micro_usd_per_day":\#(budgetPerDay),"ai_cost_micro_usd_per_minute":\#(costPerMinute),"requests_per_minute":\#(requestsPerMinute),"tokens_per_minute":\#(tokensPerMinute),"max_concurrent_jobs":\#(concurrentJobs)}"#)
        guard plan.status == 200 else { throw TestFailure("plan: \(plan.status) \(plan.text)") }
        let move = try await internalCall(.put, auth.baseURL + "/internal/tenants/\(tenant)/plan", json: #"{"plan":"\#(name)"}"#)
        guard move.status == 200 else { throw TestFailure("move: \(move.status) \(move.text)") }
    }

    /// An `InferenceCall` as the core builds it.
    static func call(
        tenant: String, plan: String = "free", kind: Principal.Kind = .user, model: String = "sim-chat", promptTokens: Int = 10,
        maxTokens: Int = 20, reserve: Int64 = 100, cacheable: Bool = false, requestID: String = UUID().uuidString, stream: Bool = false
    ) -> InferenceCall {
        InferenceCall(
            caller: Caller(principal: Principal(kind: kind, subject: "user-1", tenant: tenant, plan: plan), requestID: requestID),
            kind: .chat, model: model, stream: stream, estimatedPromptTokens: promptTokens, maxCompletionTokens: maxTokens,
            reserveCostMicroUSD: reserve, cacheable: cacheable, cacheNamespace: "ns-\(model)", exactKey: String(repeating: "a", count: 64),
            semanticText: "hello")
    }

    static func outcome(prompt: Int, completion: Int, cost: Int64, errorType: String? = nil, cache: CachedAnswer? = nil) -> InferenceOutcome {
        InferenceOutcome(
            deployment: cache == nil ? "sim-1" : "", usage: TokenUsage(promptTokens: prompt, completionTokens: completion), costMicroUSD: cost,
            cache: cache, response: .object(["id": .string("x")]), errorType: errorType, duration: .milliseconds(5))
    }

    /// Polls `condition` until it holds or `timeout` passes.
    static func eventually(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try await condition()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}


extension TenancyTest {
    /// The Prometheus text of the registry `tenancy` registered on (the test context's).
    static func renderedMetrics(_ tenancy: Tenancy) -> String {
        tenancy.parts?.registry.render() ?? ""
    }
}
