import Foundation
import Testing

/// The `anthropic` provider against a fake Messages API: request translation, response and
/// stream translation to OpenAI shapes, usage with cache reads, the `error` event after HTTP 200.
@Suite("Provider: anthropic")
struct ProviderAnthropicTests {
    static func catalog(_ fake: FakeUpstream) -> String {
        TestCatalog.catalog([
            TestCatalog.model("claude-test", deployments: [
                TestCatalog.deployment(
                    id: "an-1", provider: "anthropic", baseURL: fake.baseURL, model: "claude-upstream",
                    extra: #""api_key_env":"FAKE_ANTHROPIC_KEY","max_output_tokens":321"#)
            ])
        ])
    }

    @Test func nonStreamedMessageBecomesAChatCompletion() async throws {
        let fake = try FakeUpstream()
        fake.defaultBehavior = .reply(FakeReply(text: "Bonjour tout le monde", promptTokens: 1000, completionTokens: 500, cachedTokens: 200))
        let gw = try await CoreGateway.start(catalog: Self.catalog(fake), env: ["FAKE_ANTHROPIC_KEY": "ant-key"])
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "claude-test", extra: #""temperature":0.5,"stop":"END""#))
        #expect(r.status == 200, "\(r.text)")
        #expect(r.json["object"] as? String == "chat.completion")
        #expect(r.json["model"] as? String == "claude-test")
        let choice = try #require((r.json["choices"] as? [[String: Any]])?.first)
        #expect((choice["message"] as? [String: Any])?["content"] as? String == "Bonjour tout le monde")
        #expect((choice["message"] as? [String: Any])?["role"] as? String == "assistant")
        #expect(choice["finish_reason"] as? String == "stop")
        let usage = try #require(r.json["usage"] as? [String: Any])
        #expect(usage["prompt_tokens"] as? Int == 1000)  // input 800 + cache reads 200
        #expect((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 200)
        #expect(r.header("x-bulkhead-cost-micro-usd") == "7250")

        let sent = try #require(fake.requests.first)
        #expect(sent.path == "/v1/messages")
        #expect(sent.headers.first("x-api-key") == "ant-key")
        #expect(sent.headers.first("anthropic-version") == "2023-06-01")
        #expect(sent.body["model"]?.stringValue == "claude-upstream")
        #expect(sent.body["system"]?.stringValue == "Be brief.")
        #expect(sent.body["max_tokens"]?.doubleValue == 321)  // required by Anthropic: the deployment's default
        #expect(sent.body["temperature"]?.doubleValue == 0.5)
        #expect(sent.body["stop_sequences"]?.arrayValue?.first?.stringValue == "END")
        let messages = try #require(sent.body["messages"]?.arrayValue)
        #expect(messages.count == 1)
        #expect(messages.first?["role"]?.stringValue == "user")
        await gw.stop()
        await fake.shutdown()
    }

    @Test func streamEventsBecomeOpenAIChunksWithUsage() async throws {
        let fake = try FakeUpstream()
        fake.defaultBehavior = .reply(FakeReply(text: "Streams from Claude", promptTokens: 50, completionTokens: 4, cachedTokens: 10))
        let gw = try await CoreGateway.start(catalog: Self.catalog(fake), env: ["FAKE_ANTHROPIC_KEY": "k"])
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "claude-test", stream: true, includeUsage: true))
        #expect(r.status == 200)
        let events = r.events
        #expect(events.last as? String == "[DONE]")
        let chunks = events.compactMap { $0 as? [String: Any] }
        let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
        #expect(deltas.first?["role"] as? String == "assistant")
        #expect(deltas.compactMap { $0["content"] as? String }.joined() == "Streams from Claude")
        let finishes = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(finishes == ["stop"])
        let usage = try #require(chunks.last?["usage"] as? [String: Any])
        #expect(usage["prompt_tokens"] as? Int == 50)
        #expect(usage["completion_tokens"] as? Int == 4)
        #expect((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 10)
        // 40 × 2.5 + 10 × 1.25 + 4 × 10 = 152.5 → 153 µ$ (rounded once).
        #expect((chunks.last?["x_bulkhead"] as? [String: Any])?["cost_micro_usd"] as? Int == 153)
        #expect(fake.requests.first?.body["stream"]?.boolValue == true)
        await gw.stop()
        await fake.shutdown()
    }

    @Test func errorEventAfterHTTP200EndsTheStreamWithAnErrorLine() async throws {
        let fake = try FakeUpstream()
        fake.enqueue(.midStreamError(tokensBefore: 2, message: "Overloaded"))
        let gw = try await CoreGateway.start(catalog: Self.catalog(fake), env: ["FAKE_ANTHROPIC_KEY": "k"])
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "claude-test", stream: true))
        #expect(r.status == 200)
        let events = r.events
        #expect(!events.contains { $0 as? String == "[DONE]" })
        let last = try #require(events.last as? [String: Any])
        let error = try #require(last["error"] as? [String: Any])
        #expect(error["message"] as? String == "Overloaded")
        #expect(error["type"] as? String == "overloaded_error")
        // The tokens before the failure were forwarded; no failover after the first token.
        let text = events.compactMap { (($0 as? [String: Any])?["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            .compactMap { $0["content"] as? String }.joined()
        #expect(text == "Hello from")
        #expect(fake.requestCount == 1)
        await gw.stop()
        await fake.shutdown()
    }

    @Test func upstreamRateLimitIsRetried() async throws {
        let fake = try FakeUpstream()
        fake.enqueue(.status(529, headers: [("retry-after-ms", "20")]))
        let gw = try await CoreGateway.start(catalog: Self.catalog(fake), env: ["FAKE_ANTHROPIC_KEY": "k"])
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "claude-test"))
        #expect(r.status == 200, "\(r.text)")
        #expect(fake.requestCount == 2)
        await gw.stop()
        await fake.shutdown()
    }
}
