import BulkheadHTTPClient
import BulkheadHTTP
import Foundation
@testable import InferenceGateway
import Testing

/// The simulator's streams and non-streamed answers, and streams whose client goes away.
@Suite("Streaming")
struct StreamingTests {
    static let simulatorCatalog = TestCatalog.catalog([
        #"{"name":"sim","deployments":[{"id":"sim-1","provider":"simulator","price":{"input":1,"output":2},"simulator":{"ttft_ms":50,"tokens_per_second":200,"output_tokens":20}}]}"#
    ])

    @Test func simulatorStreamsDeterministicTextAtItsRate() async throws {
        let gw = try await CoreGateway.start(catalog: Self.simulatorCatalog)
        let started = ContinuousClock.now
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "sim", stream: true, includeUsage: true))
        let elapsed = ContinuousClock.now - started
        #expect(r.status == 200)
        let chunks = r.events.compactMap { $0 as? [String: Any] }
        #expect(chunks.count >= 3)  // batched per tick, not one write for everything
        let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
        #expect(deltas.first?["role"] as? String == "assistant")
        let text = deltas.compactMap { $0["content"] as? String }.joined()
        // 20 tokens at 200/s after a 50 ms first token: about 150 ms.
        #expect(elapsed >= .milliseconds(140))
        let usage = try #require(chunks.last?["usage"] as? [String: Any])
        #expect(usage["completion_tokens"] as? Int == 20)
        let finish = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
        #expect(finish == ["stop"])
        // The same prompt gives the same answer, streamed or not.
        let again = try await gw.post("/v1/chat/completions", chatBody(model: "sim"))
        let message = ((again.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String
        #expect(message == text)
        #expect((again.json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 20)
        let other = try await gw.post("/v1/chat/completions", chatBody(model: "sim", content: "Something else entirely"))
        #expect(((other.json["choices"] as? [[String: Any]])?.first?["message"] as? [String: Any])?["content"] as? String != text)
        #expect(again.header("x-bulkhead-cost-estimated") == "false")
        await gw.stop()
    }

    @Test func maxTokensCapsTheSimulatorWithFinishReasonLength() async throws {
        let gw = try await CoreGateway.start(catalog: Self.simulatorCatalog)
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "sim", extra: #""max_tokens":5"#))
        let choice = (r.json["choices"] as? [[String: Any]])?.first
        #expect(choice?["finish_reason"] as? String == "length")
        #expect((r.json["usage"] as? [String: Any])?["completion_tokens"] as? Int == 5)
        await gw.stop()
    }

    @Test func clientDisconnectCancelsTheUpstreamStream() async throws {
        let fake = try FakeUpstream()
        fake.defaultBehavior = .reply(FakeReply(text: String(repeating: "tok ", count: 200), interTokenDelay: .milliseconds(20)))
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            TestCatalog.model("m", deployments: [TestCatalog.deployment(id: "d", baseURL: fake.openAIBaseURL)])
        ]))
        var request = HTTPClientRequest(method: .post, url: gw.base + "/v1/chat/completions", body: Array(chatBody(model: "m", stream: true).utf8))
        request.headers.add(name: "Content-Type", value: "application/json")
        let reader = Task {
            let response = try await gw.client.execute(request, timeout: nil)
            var seen = 0
            for try await chunk in response.body {
                seen += chunk.count
                if seen > 300 { break }  // read a few tokens, then hang up
            }
        }
        try await reader.value
        // The upstream stream ends soon after (it would otherwise take 4 s).
        let deadline = ContinuousClock.now + .seconds(3)
        var inFlight = 1
        while ContinuousClock.now < deadline {
            inFlight = Int(try await gw.get("/metrics").text.split(separator: "\n")
                .first { $0.hasPrefix(#"gateway_in_flight{deployment="d"}"#) }?.split(separator: " ").last.flatMap { Double($0) } ?? 1)
            if inFlight == 0 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(inFlight == 0)
        await gw.stop()
        await fake.shutdown()
    }
}
