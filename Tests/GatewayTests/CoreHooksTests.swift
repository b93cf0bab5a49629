import Foundation
@testable import InferenceGateway
import Shared
import Synchronization
import Testing

/// The seam with the tenancy layer: the core calls `admit` → `lookup` (cacheable calls) →
/// provider → `finish` once, renders refusals, serves cache hits as JSON or chunks, and the
/// worker's pipeline takes the same path.
@Suite("Core: hooks and pipeline")
struct CoreHooksTests {
    final class Recording: InferenceHooks, @unchecked Sendable {
        let log = Mutex<[String]>([])
        let calls = Mutex<[InferenceCall]>([])
        let outcomes = Mutex<[InferenceOutcome]>([])
        let refuse = Mutex(false)
        let hit = Mutex<CachedAnswer?>(nil)

        func admit(_ call: InferenceCall) async throws -> any InferenceTicket {
            log.withLock { $0.append("admit") }
            calls.withLock { $0.append(call) }
            if refuse.withLock({ $0 }) {
                throw GatewayError.rateLimited(limit: "cost_per_minute", message: "Cost per minute exceeded.", retryAfterSeconds: 7,
                    headers: [("x-ratelimit-remaining-requests", "0")])
            }
            return Ticket(owner: self)
        }

        func lookup(_ call: InferenceCall) async -> CachedAnswer? {
            log.withLock { $0.append("lookup") }
            return hit.withLock { $0 }
        }

        struct Ticket: InferenceTicket {
            let owner: Recording
            var responseHeaders: [(String, String)] { [("x-ratelimit-limit-requests", "100")] }
            func progress(completionTokens: Int, costMicroUSD: Int64) async { owner.log.withLock { $0.append("progress") } }
            func finish(_ outcome: InferenceOutcome) async {
                owner.log.withLock { $0.append("finish") }
                owner.outcomes.withLock { $0.append(outcome) }
            }
        }
    }

    static let catalog = TestCatalog.catalog([
        #"{"name":"sim","deployments":[{"id":"sim-1","provider":"simulator","max_output_tokens":100,"price":{"input":1,"output":2},"simulator":{"output_tokens":40}}]}"#
    ])

    @Test func hooksRunInOrderAndSeeTheCall() async throws {
        let hooks = Recording()
        let gw = try await CoreGateway.start(catalog: Self.catalog, hooks: hooks)
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "sim", stream: true, extra: #""temperature":0"#), headers: [("x-request-id", "req-42")])
        #expect(r.status == 200)
        #expect(r.header("x-ratelimit-limit-requests") == "100")
        #expect(r.header("x-cache") == "miss")
        let log = hooks.log.withLock { $0 }
        #expect(log.first == "admit")
        #expect(log.dropFirst().first == "lookup")
        #expect(log.last == "finish")
        #expect(log.filter { $0 == "finish" }.count == 1)
        #expect(log.contains("progress"))  // 40 tokens, progress every 16
        let call = try #require(hooks.calls.withLock { $0.first })
        #expect(call.caller.requestID == "req-42")
        #expect(call.caller.principal.subject == "anonymous")
        #expect(call.cacheable)
        #expect(call.exactKey.count == 64)
        #expect(call.cacheNamespace.hasPrefix("sim."))
        #expect(call.maxCompletionTokens == 100)
        // Reserve: prompt × 1 + 100 × 2 at the dearest deployment.
        #expect(call.reserveCostMicroUSD == Int64(call.estimatedPromptTokens + 200))
        let outcome = try #require(hooks.outcomes.withLock { $0.first })
        #expect(outcome.deployment == "sim-1")
        #expect(outcome.usage.completionTokens == 40)
        #expect(outcome.costMicroUSD == Int64(outcome.usage.promptTokens + 80))
        #expect(outcome.response != nil)  // cacheable: the full answer goes to the cache
        #expect(outcome.errorType == nil)

        // Same call with the bypass header: not cacheable, no lookup.
        hooks.log.withLock { $0 = [] }
        let bypass = try await gw.post("/v1/chat/completions", chatBody(model: "sim", extra: #""temperature":0"#), headers: [("x-bulkhead-cache", "bypass")])
        #expect(bypass.header("x-cache") == "bypass")
        #expect(!hooks.log.withLock { $0 }.contains("lookup"))
        await gw.stop()
    }

    @Test func refusalIsRenderedAsA429WithItsHeaders() async throws {
        let hooks = Recording()
        hooks.refuse.withLock { $0 = true }
        let gw = try await CoreGateway.start(catalog: Self.catalog, hooks: hooks)
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "sim"))
        #expect(r.status == 429)
        #expect(r.header("retry-after") == "7")
        #expect(r.header("x-ratelimit-remaining-requests") == "0")
        #expect(r.error["code"] as? String == "cost_per_minute")
        #expect(r.error["type"] as? String == "rate_limit_error")
        await gw.stop()
    }

    @Test func cacheHitsAnswerAtOnceAsJSONOrAsAStream() async throws {
        let hooks = Recording()
        let cached: JSONValue = .object([
            "id": .string("chatcmpl-cached"), "object": .string("chat.completion"), "created": .number(1), "model": .string("sim"),
            "choices": .array([.object([
                "index": .number(0), "message": .object(["role": .string("assistant"), "content": .string("From the cache.")]),
                "finish_reason": .string("stop"),
            ])]),
        ])
        hooks.hit.withLock {
            $0 = CachedAnswer(kind: "hit-semantic", similarity: 0.9731, response: cached, usage: TokenUsage(promptTokens: 9, completionTokens: 3), savedCostMicroUSD: 15)
        }
        let gw = try await CoreGateway.start(catalog: Self.catalog, hooks: hooks)
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "sim", extra: #""temperature":0.2"#))
        #expect(r.status == 200)
        #expect(r.header("x-cache") == "hit-semantic")
        #expect(r.header("x-cache-similarity") == "0.9731")
        #expect(r.header("x-bulkhead-cost-micro-usd") == "0")
        #expect(r.json["id"] as? String == "chatcmpl-cached")
        let s = try await gw.post("/v1/chat/completions", chatBody(model: "sim", stream: true, includeUsage: true, extra: #""temperature":0.2"#))
        #expect(s.header("x-cache") == "hit-semantic")
        let chunks = s.events.compactMap { $0 as? [String: Any] }
        let delta = (chunks.first?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any]
        #expect(delta?["role"] as? String == "assistant")
        #expect(delta?["content"] as? String == "From the cache.")
        #expect((chunks.last?["usage"] as? [String: Any])?["completion_tokens"] as? Int == 3)
        #expect(s.events.last as? String == "[DONE]")
        let outcomes = hooks.outcomes.withLock { $0 }
        #expect(outcomes.count == 2)
        #expect(outcomes.allSatisfy { $0.cache?.kind == "hit-semantic" && $0.costMicroUSD == 0 })
        await gw.stop()
    }

    @Test func pipelineRunsChatAndEmbeddingsThroughTheSamePath() async throws {
        let hooks = Recording()
        let fake = try FakeUpstream()
        fake.defaultBehavior = .reply(FakeReply(promptTokens: 10))
        let gw = try await CoreGateway.start(
            catalog: TestCatalog.catalog([
                #"{"name":"sim","deployments":[{"id":"sim-1","provider":"simulator","price":{"input":1,"output":2},"simulator":{"output_tokens":30,"tokens_per_second":1000}}]}"#,
                #"{"name":"embed","kind":"embeddings","deployments":[{"id":"e1","provider":"openai","base_url":"\#(fake.openAIBaseURL)","price":{"input":3}}]}"#,
            ]), hooks: hooks)
        let pipeline = try #require(gw.core?.pipeline)
        let deltas = Mutex<[String]>([])
        let caller = Caller(principal: Principal(kind: .apiKey, subject: "key-1", tenant: "t1"), requestID: "job:1", jobID: "1")
        let result = try await pipeline.chat(
            .object(["model": .string("sim"), "messages": .array([.object(["role": .string("user"), "content": .string("hi")])])]),
            caller: caller) { d in deltas.withLock { $0.append(d) } }
        let text = result.response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue
        #expect(text == deltas.withLock { $0.joined() })
        #expect(deltas.withLock { $0.count } > 1)
        #expect(result.usage.completionTokens == 30)
        #expect(result.costMicroUSD == Int64(result.usage.promptTokens + 60))
        #expect(result.deployment == "sim-1")
        #expect(result.firstTokenAt != nil)
        #expect(hooks.calls.withLock { $0.first?.caller.principal.tenant } == "t1")

        let embedded = try await pipeline.embeddings(.object(["model": .string("embed"), "input": .string("hello")]), caller: caller)
        #expect(embedded.costMicroUSD == 30)
        #expect(embedded.response["data"]?.arrayValue?.count == 1)

        await #expect(throws: GatewayError.self) {
            _ = try await pipeline.chat(.object(["model": .string("nope"), "messages": .array([])]), caller: caller) { _ in }
        }
        await gw.stop()
        await fake.shutdown()
    }
}
