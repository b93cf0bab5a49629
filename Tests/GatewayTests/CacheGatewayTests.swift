import BulkheadService
import Cache
import Foundation
@testable import InferenceGateway
import Testing

/// The semantic cache through a real gateway, a real cache service and real auth: exact and
/// semantic hits inside the tenant's namespace, misses across tenants, and a cache that is down
/// never failing a request. Needs the cache service's entry API and the core's chat route.
@Suite("Cache: semantic cache through the gateway", .serialized)
struct CacheGatewayTests {
    static func chat(_ gateway: ServiceHost, key: String, _ content: String, stream: Bool = false) async throws -> TenancyTest.Reply {
        let body = #"{"model":"simulator-fast","temperature":0,"stream":\#(stream),"messages":[{"role":"user","content":"\#(content)"}]}"#
        return try await TenancyTest.call(.post, gateway.baseURL + "/v1/chat/completions", bearer: key, json: body)
    }

    @Test func repeatedAndParaphrasedRequestsHitOtherTenantsMissAndADownCacheIsHarmless() async throws {
        let auth = try await TenancyTest.startAuth()
        let cache = try await ServiceHost.start(CacheService.self, environment: TenancyTest.environment())
        let gateway = try await ServiceHost.start(
            InferenceGatewayService.self,
            environment: TenancyTest.environment(["AUTH_URL": auth.baseURL, "CACHE_URL": cache.baseURL, "GATEWAY_CACHE_TIMEOUT": "2s"]))
        let a = try await TenancyTest.signUp(auth, name: "CacheA")
        let b = try await TenancyTest.signUp(auth, name: "CacheB")

        let first = try await Self.chat(gateway, key: a.apiKey, "What is the capital city of France?")
        #expect(first.status == 200, "\(first.text)")
        #expect(first.header("x-cache") == "miss")
        // The answer is stored off the response path: wait until the exact repeat hits.
        var repeated = first
        let hit = try await TenancyTest.eventually {
            repeated = try await Self.chat(gateway, key: a.apiKey, "What is the capital city of France?")
            return repeated.header("x-cache") == "hit-exact"
        }
        #expect(hit, "x-cache: \(repeated.header("x-cache") ?? "none")")
        #expect(repeated.json?["choices"] == first.json?["choices"])
        #expect(repeated.header("x-bulkhead-cost-micro-usd") == "0")

        // A hit answers a stream too, as chunks.
        let streamed = try await Self.chat(gateway, key: a.apiKey, "What is the capital city of France?", stream: true)
        #expect(streamed.status == 200 && streamed.header("x-cache") == "hit-exact")
        #expect(streamed.text.contains("data: [DONE]") && streamed.text.contains("chat.completion.chunk"))

        let paraphrase = try await Self.chat(gateway, key: a.apiKey, "What's the capital city of France?")
        #expect(paraphrase.header("x-cache") == "hit-semantic", "\(paraphrase.header("x-cache") ?? "none")")
        let similarity = try #require(paraphrase.header("x-cache-similarity").flatMap(Double.init))
        #expect(similarity > 0.8 && similarity < 1.0)

        // Another tenant never sees tenant A's answers.
        #expect(try await Self.chat(gateway, key: b.apiKey, "What is the capital city of France?").header("x-cache") == "miss")

        let metrics = try await TenancyTest.call(.get, gateway.baseURL + "/metrics").text
        #expect(metrics.contains(#"gateway_cache_lookups_total{result="hit_exact"}"#))
        #expect(!metrics.contains(#"gateway_cache_lookups_total{result="hit_semantic"} 0"#))

        // The cache goes away: requests still succeed (as misses), counted as errors.
        await cache.shutdown()
        let without = try await Self.chat(gateway, key: a.apiKey, "Name a large river in Africa.")
        #expect(without.status == 200)
        let after = try await TenancyTest.call(.get, gateway.baseURL + "/metrics").text
        #expect(!after.contains(#"gateway_cache_lookups_total{result="error"} 0"#))
        await gateway.shutdown()
        await auth.shutdown()
    }
}
