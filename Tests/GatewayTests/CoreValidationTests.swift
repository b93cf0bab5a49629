import Foundation
@testable import InferenceGateway
import Testing

/// Bad inputs get OpenAI-shaped errors (`{"error":{"message","type","param","code"}}`) with the right status.
@Suite("Core: validation")
struct CoreValidationTests {
    @Test(arguments: [
        ("{not json", 400, nil as String?, "invalid_json"),
        (#"[1,2]"#, 400, nil, "invalid_json"),
        (#"{"messages":[{"role":"user","content":"hi"}]}"#, 400, "model", "missing_required_parameter"),
        (#"{"model":"simulator-fast"}"#, 400, "messages", "missing_required_parameter"),
        (#"{"model":"simulator-fast","messages":[]}"#, 400, "messages", "empty_array"),
        (#"{"model":"simulator-fast","messages":[{"role":"wizard","content":"hi"}]}"#, 400, "messages[0].role", "invalid_value"),
        (#"{"model":"simulator-fast","messages":[{"role":"user","content":42}]}"#, 400, "messages[0].content", "invalid_type"),
        (#"{"model":"simulator-fast","messages":[{"role":"user","content":"hi"}],"temperature":3}"#, 400, "temperature", "invalid_value"),
        (#"{"model":"simulator-fast","messages":[{"role":"user","content":"hi"}],"max_tokens":0}"#, 400, "max_tokens", "invalid_value"),
        (#"{"model":"simulator-fast","messages":[{"role":"user","content":"hi"}],"n":1000}"#, 400, "n", "invalid_value"),
        (#"{"model":"simulator-fast","messages":[{"role":"user","content":"hi"}],"stream_options":{"include_usage":true}}"#, 400, "stream_options", "invalid_value"),
        (#"{"model":"gpt-unknown","messages":[{"role":"user","content":"hi"}]}"#, 404, "model", "model_not_found"),
        (#"{"model":"all-minilm-l6-v2","messages":[{"role":"user","content":"hi"}]}"#, 400, "model", "model_not_supported"),
    ])
    func badChatRequestsGetOpenAIErrors(body: String, status: Int, param: String?, code: String) async throws {
        let gw = try await CoreGateway.start(catalog: DefaultCatalog.json)
        let r = try await gw.post("/v1/chat/completions", body)
        #expect(r.status == status, "\(r.text)")
        #expect(r.error.keys.sorted() == ["code", "message", "param", "type"])
        #expect(r.error["type"] as? String == (status == 404 ? "invalid_request_error" : "invalid_request_error"))
        #expect(r.error["param"] as? String == param)
        #expect(r.error["code"] as? String == code)
        #expect((r.error["message"] as? String)?.isEmpty == false)
        await gw.stop()
    }

    @Test func oversizedBodyIs413() async throws {
        let gw = try await CoreGateway.start(catalog: DefaultCatalog.json, env: ["GATEWAY_CHAT_BODY_LIMIT": "65536"])
        let r = try await gw.post("/v1/chat/completions", chatBody(model: "simulator-fast", content: String(repeating: "x", count: 70_000)))
        #expect(r.status == 413)
        #expect((r.error["message"] as? String)?.contains("exceeds") == true)
        await gw.stop()
    }

    @Test func embeddingsOfAnUnknownModelIs404() async throws {
        let gw = try await CoreGateway.start(catalog: DefaultCatalog.json)
        let r = try await gw.post("/v1/embeddings", #"{"model":"nope","input":"hi"}"#)
        #expect(r.status == 404)
        #expect(r.error["code"] as? String == "model_not_found")
        await gw.stop()
    }

    @Test func embeddingsThroughAnOpenAICompatibleUpstreamAreCosted() async throws {
        let fake = try FakeUpstream()
        fake.defaultBehavior = .reply(FakeReply(promptTokens: 1234))
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            #"{"name":"embed","kind":"embeddings","deployments":[{"id":"e1","provider":"openai","base_url":"\#(fake.openAIBaseURL)","price":{"input":0.5}}]}"#
        ]))
        let r = try await gw.post("/v1/embeddings", #"{"model":"embed","input":["a","b"]}"#)
        #expect(r.status == 200, "\(r.text)")
        #expect((r.json["data"] as? [Any])?.count == 2)
        #expect(r.header("x-bulkhead-cost-micro-usd") == "617")  // 1234 × 0.5 = 617
        #expect(fake.requests.first?.path == "/v1/embeddings")
        await gw.stop()
        await fake.shutdown()
    }
}
