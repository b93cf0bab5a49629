import BulkheadService
import Cache
import Foundation
@testable import InferenceGateway
import Shared
import Testing

/// Limits through a real gateway (core + tenancy) over HTTP, and reconciliation on the cache
/// service's shared counters.
@Suite("Limits: through the gateway and the shared counters", .serialized)
struct LimitsGatewayTests {
    static func chat(_ gateway: ServiceHost, key: String, _ content: String, stream: Bool = false) async throws -> TenancyTest.Reply {
        try await TenancyTest.call(
            .post, gateway.baseURL + "/v1/chat/completions", bearer: key,
            json: #"{"model":"simulator-fast","temperature":1,"stream":\#(stream),"messages":[{"role":"user","content":"\#(content)"}]}"#)
    }

    @Test func twoTenantsOneThrottledTheOtherAtFullSpeedOverHTTP() async throws {
        let auth = try await TenancyTest.startAuth()
        let gateway = try await ServiceHost.start(InferenceGatewayService.self, environment: TenancyTest.environment(["AUTH_URL": auth.baseURL]))
        let heavy = try await TenancyTest.signUp(auth, name: "HeavyHTTP")
        let light = try await TenancyTest.signUp(auth, name: "LightHTTP")
        try await TenancyTest.setPlan(auth, tenant: heavy.tenant, name: "tiny-http", requestsPerMinute: 2)

        var heavyCodes: [Int] = []
        var refused: TenancyTest.Reply?
        for i in 0..<5 {
            let r = try await Self.chat(gateway, key: heavy.apiKey, "heavy \(i)")
            heavyCodes.append(r.status)
            if r.status == 429 { refused = r }
            let l = try await Self.chat(gateway, key: light.accessToken, "light \(i)")
            #expect(l.status == 200, "\(l.text)")
            #expect(l.header("x-ratelimit-limit-requests") == "60")  // built-in free plan
            #expect(l.header("x-ratelimit-remaining-tokens") != nil)
        }
        #expect(heavyCodes == [200, 200, 429, 429, 429])
        let r = try #require(refused)
        AuthGatewayTests.expectOpenAIError(r, status: 429, type: "rate_limit_error", code: "requests_per_minute")
        #expect(r.json?["error"]?["message"]?.stringValue?.contains("tiny-http") == true)
        #expect((r.header("retry-after").flatMap(Int.init) ?? 0) >= 1)
        #expect(r.header("x-ratelimit-limit-requests") == "2" && r.header("x-ratelimit-remaining-requests") == "0")
        #expect(r.header("x-ratelimit-reset-requests") != nil)
        let metrics = try await TenancyTest.call(.get, gateway.baseURL + "/metrics").text
        #expect(metrics.contains(#"gateway_throttled_total{limit="requests_per_minute"} 3"#))
        #expect(metrics.contains(#"gateway_output_tokens_total{model="simulator-fast"}"#))
        await gateway.shutdown()
        await auth.shutdown()
    }

    @Test func failClosedAnswers503InOpenAIShapeOverHTTP() async throws {
        let auth = try await TenancyTest.startAuth()
        let gateway = try await ServiceHost.start(
            InferenceGatewayService.self,
            environment: TenancyTest.environment(["AUTH_URL": auth.baseURL, "CACHE_URL": "http://127.0.0.1:9", "GATEWAY_LIMITS_ON_STORE_FAILURE": "closed"]))
        let account = try await TenancyTest.signUp(auth, name: "Closed")
        let r = try await Self.chat(gateway, key: account.apiKey, "hello")
        AuthGatewayTests.expectOpenAIError(r, status: 503, type: "api_error", code: "limits_unavailable")
        #expect(try await TenancyTest.call(.get, gateway.baseURL + "/metrics").text.contains("gateway_limits_degraded 1"))
        await gateway.shutdown()
        await auth.shutdown()
    }

    @Test func reconciliationRefundsOnTheSharedCounters() async throws {
        let cache = try await ServiceHost.start(CacheService.self, environment: TenancyTest.environment())
        let tenancy = try await Tenancy.make(TenancyTest.context(["CACHE_URL": cache.baseURL]), localModels: TenancyTest.localModels())
        let hooks = try #require(tenancy.hooks as? TenancyHooks)
        let tenant = "t-shared-\(UUID().uuidString.prefix(8))"
        let keys = LimitKeys(tenant: tenant, epochDay: Int(Date().timeIntervalSince1970 / 86_400))
        func value(_ key: String) async throws -> Int? {
            let r = try await TenancyTest.internalCall(.get, cache.baseURL + "/internal/v1/counters/\(key)")
            return r.json?["value"]?.doubleValue.map { Int($0) }
        }
        let ticket = try await hooks.admit(TenancyTest.call(tenant: tenant, promptTokens: 100, maxTokens: 900, reserve: 5_000))
        #expect(try await value(keys.day) == 5_000)
        #expect(try await value(keys.concurrent) == 1)
        let tokensBefore = try #require(try await value(keys.tokens))
        // 1,000 reserved from 20,000; the bucket refills 333/s meanwhile, so allow for a little refill.
        #expect(tokensBefore < 19_500)
        await ticket.finish(TenancyTest.outcome(prompt: 100, completion: 20, cost: 1_200))
        await hooks.pending.drain(timeout: .seconds(5))
        #expect(try await value(keys.day) == 1_200)
        #expect(try await value(keys.concurrent) == 0)
        let tokensAfter = try #require(try await value(keys.tokens))
        #expect(tokensAfter >= 19_880)
        #expect(TenancyTest.renderedMetrics(tenancy).contains("gateway_limits_degraded 0"))
        for step in tenancy.onShutdown { await step() }
        await cache.shutdown()
    }
}
