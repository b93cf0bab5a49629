import BulkheadEmbeddings
import BulkheadObservability
import BulkheadService
import BulkheadTesting
import Foundation
import InferenceGateway
import Testing

/// `/v1/embeddings` and `/v1/models` on a real inference-gateway over loopback sockets.
@Suite struct GatewayEmbeddingsTests {
    static func environment(_ extra: [String: String]) -> Environment {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-gw-\(UUID().uuidString)").path
        var values = ["HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": "t", "LOOP_THREADS": "1", "LOG_LEVEL": "error"]
        for (k, v) in extra { values[k] = v }
        return Environment(values)
    }

    static func request(_ port: Int, _ method: String, _ path: String, body: String = "") throws -> TestResponse {
        let c = try RawConnection(port: port)
        let bytes = Array(body.utf8)
        try c.send("\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(bytes.count)\r\n\r\n")
        if !bytes.isEmpty { try c.send(bytes) }
        return try c.readResponse(timeout: .seconds(20))
    }

    static func json(_ r: TestResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(r.text.utf8)) as? [String: Any])
    }

    @Test func servesOpenAIEmbeddingsForBothPrecisions() async throws {
        let dir = try TestPaths.modelDirectory()
        let host = try await ServiceHost.start(InferenceGatewayService.self, environment: Self.environment(["BULKHEAD_EMBEDDING_MODEL_DIR": dir]))
        let reference = try await SharedModels.shared.model(.fp32).embed(["A cat sits.", "Paris is in France."])

        let models = try Self.json(try Self.request(host.port, "GET", "/v1/models"))
        let ids = (models["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
        // The default catalog lists the local models (and the chat simulators after them).
        #expect(ids.map { Array($0.prefix(2)) } == ["all-minilm-l6-v2", "all-minilm-l6-v2-int8"])

        for model in ["all-minilm-l6-v2", "all-minilm-l6-v2-int8"] {
            let r = try Self.request(host.port, "POST", "/v1/embeddings", body: #"{"model":"\#(model)","input":["A cat sits.","Paris is in France."]}"#)
            #expect(r.status == 200, "\(r.text)")
            let body = try Self.json(r)
            #expect(body["object"] as? String == "list")
            #expect(body["model"] as? String == model)
            let data = try #require(body["data"] as? [[String: Any]])
            #expect(data.count == 2)
            for (i, item) in data.enumerated() {
                #expect(item["object"] as? String == "embedding")
                #expect(item["index"] as? Int == i)
                let v = try #require((item["embedding"] as? [NSNumber])?.map(\.floatValue))
                #expect(v.count == 384)
                #expect(cosine(v, reference[i]) > (model.hasSuffix("int8") ? 0.99 : 0.9999))
            }
            let usage = try #require(body["usage"] as? [String: Any])
            // [CLS] a cat sits . [SEP] = 6, [CLS] paris is in france . [SEP] = 7.
            #expect(usage["prompt_tokens"] as? Int == 13)
            #expect(usage["total_tokens"] as? Int == 13)
        }

        // A single string and base64 output: little-endian float32 bytes of the same vector.
        let r = try Self.request(host.port, "POST", "/v1/embeddings", body: #"{"model":"all-minilm-l6-v2","input":"A cat sits.","encoding_format":"base64"}"#)
        #expect(r.status == 200, "\(r.text)")
        let item = try #require((try Self.json(r)["data"] as? [[String: Any]])?.first)
        let text = try #require(item["embedding"] as? String)
        let raw = try #require(Data(base64Encoded: text))
        let bytes = [UInt8](raw)
        var floats: [Float] = []
        for i in stride(from: 0, to: bytes.count - 3, by: 4) {
            var bits = UInt32(bytes[i])
            bits |= UInt32(bytes[i + 1]) << 8
            bits |= UInt32(bytes[i + 2]) << 16
            bits |= UInt32(bytes[i + 3]) << 24
            floats.append(Float(bitPattern: bits))
        }
        #expect(floats.count == 384)
        #expect(cosine(floats, reference[0]) > 0.9999)
        await host.shutdown()
    }

    @Test func badRequestsGetOpenAIShapedErrors() async throws {
        let host = try await ServiceHost.start(
            InferenceGatewayService.self, environment: Self.environment(["BULKHEAD_EMBEDDING_MODEL_DIR": try TestPaths.modelDirectory()]))
        let cases: [(body: String, status: Int, param: String?, code: String?)] = [
            (#"{"model":"gpt-9","input":"x"}"#, 404, "model", "model_not_found"),
            (#"{"model":"all-minilm-l6-v2","input":"x""#, 400, nil, "invalid_json"),
            (#"{"model":"all-minilm-l6-v2"}"#, 400, "input", nil),
            (#"{"input":"x"}"#, 400, "model", nil),
            (#"{"model":"all-minilm-l6-v2","input":[1,2,3]}"#, 400, "input", nil),
            (#"{"model":"all-minilm-l6-v2","input":[]}"#, 400, "input", nil),
            (#"{"model":"all-minilm-l6-v2","input":["ok",""]}"#, 400, "input", nil),
            (#"{"model":"all-minilm-l6-v2","input":"x","temperature":1}"#, 400, "temperature", nil),
            (#"{"model":"all-minilm-l6-v2","input":"x","encoding_format":"int4"}"#, 400, "encoding_format", nil),
            (#"{"model":"all-minilm-l6-v2","input":"x","dimensions":512}"#, 400, "dimensions", nil),
            (#"{"model":"all-minilm-l6-v2","input":[\#(Array(repeating: "\"a\"", count: 2049).joined(separator: ","))]}"#, 413, "input", "too_many_inputs"),
            (#"{"model":"all-minilm-l6-v2","input":"\#(String(repeating: "a", count: 40_000))"}"#, 413, "input", "input_too_long"),
        ]
        for c in cases {
            let r = try Self.request(host.port, "POST", "/v1/embeddings", body: c.body)
            #expect(r.status == c.status, "\(c.body.prefix(80)): \(r.text)")
            let error = try #require(try Self.json(r)["error"] as? [String: Any], "\(r.text)")
            #expect((error["message"] as? String)?.isEmpty == false)
            #expect(error["type"] as? String == "invalid_request_error")
            #expect(error["param"] as? String == c.param, "\(r.text)")
            if let code = c.code { #expect(error["code"] as? String == code) }
            #expect(error.keys.contains("param") && error.keys.contains("code"))
        }
        // Bodies beyond the route limit are refused by the server before decoding.
        // An oversized Content-Length is answered at once, so only the head is sent.
        let c = try RawConnection(port: host.port)
        try c.send("POST /v1/embeddings HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(3 << 20)\r\n\r\n")
        #expect(try c.readResponse().status == 413)
        await host.shutdown()
    }

    @Test func missingModelDirectoryStillStartsAndAnswers503() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-model-\(UUID().uuidString)").path
        let host = try await ServiceHost.start(InferenceGatewayService.self, environment: Self.environment(["BULKHEAD_EMBEDDING_MODEL_DIR": missing]))
        #expect(try Self.request(host.port, "GET", "/readyz").status == 200)
        let r = try Self.request(host.port, "POST", "/v1/embeddings", body: #"{"model":"all-minilm-l6-v2","input":"hello"}"#)
        #expect(r.status == 503)
        let error = try #require(try Self.json(r)["error"] as? [String: Any])
        #expect(error["code"] as? String == "model_unavailable")
        #expect((error["message"] as? String)?.contains(missing) == true)
        await host.shutdown()
    }

    @Test func preloadReportsReadinessOnceLoaded() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-model-\(UUID().uuidString)").path
        let broken = try await ServiceHost.start(
            InferenceGatewayService.self, environment: Self.environment(["BULKHEAD_EMBEDDING_MODEL_DIR": missing, "LOCAL_MODELS_PRELOAD": "true"]))
        #expect(try Self.request(broken.port, "GET", "/readyz").status == 503)
        await broken.shutdown()

        let host = try await ServiceHost.start(
            InferenceGatewayService.self,
            environment: Self.environment(["BULKHEAD_EMBEDDING_MODEL_DIR": try TestPaths.modelDirectory(), "LOCAL_MODELS_PRELOAD": "true"]))
        // Poll with a deadline: both models load in the background.
        let deadline = ContinuousClock.now + .seconds(30)
        var ready = try Self.request(host.port, "GET", "/readyz")
        while ready.status != 200, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            ready = try Self.request(host.port, "GET", "/readyz")
        }
        #expect(ready.status == 200, "\(ready.text)")
        let models = try Self.json(try Self.request(host.port, "GET", "/v1/models"))
        #expect((models["data"] as? [[String: Any]])?.allSatisfy { $0["loaded"] as? Bool == true } == true)
        await host.shutdown()
    }
}
