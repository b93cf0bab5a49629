import BulkheadHTTP
import BulkheadObservability
import BulkheadService
import BulkheadTesting
import Foundation
import InferenceGateway
import Shared
import Testing

/// Submissions are checked against the gateway's catalog (`GET /v1/models`, cached), and still
/// accepted when the gateway cannot be asked.
@Suite("api-core model check")
struct ModelCheckTests {
    /// An in-process gateway (API mode, built-in catalog: `simulator-fast`, `simulator-chat` and
    /// the local embedding models) that requires a credential: api-core must use the internal token.
    static func withGateway<T>(_ body: (String, ServiceHost) async throws -> T) async throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-api-gw-\(UUID().uuidString)").path
        let gateway = try await ServiceHost.start(InferenceGatewayService.self, environment: Environment([
            "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": directory, "LOOP_THREADS": "1", "LOG_LEVEL": "error", "ACCESS_LOG": "false",
            "GATEWAY_MODE": "api", "BULKHEAD_INTERNAL_TOKEN": APIStack.internalToken,
            // Access tokens would be verified there; this test only uses the internal token.
            "AUTH_URL": "http://127.0.0.1:9", "GATEWAY_AUTH": "required",
        ]))
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let value = try await body("http://127.0.0.1:\(gateway.port)", gateway)
            await gateway.shutdown()
            return value
        } catch {
            await gateway.shutdown()
            throw error
        }
    }

    static func job(_ model: String) -> [String: Any] {
        var job = APIStack.chatJob
        job["model"] = model
        return job
    }

    @Test func unknownModelsAreRefusedKnownOnesAcceptedWithoutAskingTheGatewayEachTime() async throws {
        try await Self.withGateway { gateway, _ in
            try await withStack(["GATEWAY_URL": gateway]) { s in
                // Without the internal token the gateway refuses the listing: the checks below prove api-core sends it.
                #expect(try await s.call(.get, "/v1/models", base: gateway).status == 401)
                let a = try await s.signup()
                try await eventually("model list fetched") { try await s.metric(#"api_model_list_refreshes_total{result="ok"}"#) ?? 0 >= 1 }

                let refused = try await s.submit(a, Self.job("gpt-nonexistent"))
                #expect(refused.status == 422 && refused.errorCode == "model_not_found", "\(refused.text)")
                let message = refused.json["error"]?["message"]?.stringValue ?? ""
                #expect(message.contains("'gpt-nonexistent'") && message.contains("simulator-chat") && message.contains("simulator-fast"), "\(message)")
                // Nothing stored, nothing queued.
                #expect(try await s.call(.get, "/v1/jobs", bearer: a.access).json["data"]?.arrayValue?.isEmpty == true)
                let queue = try await s.internalCall(.get, s.brokerBase, "/internal/v1/queues/\(AIJobContract.jobQueue)")
                #expect(queue.json["stats"]?["visible"]?.doubleValue == 0 && queue.json["stats"]?["sent_total"]?.doubleValue == 0, "\(queue.text)")

                // Known models pass on the cached list: no fetch per submission.
                let fetches = try await s.metric(#"api_model_list_refreshes_total{result="ok"}"#) ?? 0
                for model in ["simulator-fast", "simulator-chat", "simulator-fast"] {
                    let r = try await s.submit(a, Self.job(model))
                    #expect(r.status == 202, "\(model): \(r.text)")
                }
                #expect(try await s.metric(#"api_model_list_refreshes_total{result="ok"}"#) == fetches)
                #expect(try await s.metric(#"api_model_checks_total{result="known"}"#) == 3)
                #expect(try await s.metric(#"api_model_checks_total{result="unknown"}"#) == 1)
                let message0 = try await s.receiveJob().message
                #expect(message0.model.hasPrefix("simulator-"))

                // A model of the other kind is refused, naming the ones that fit.
                let embeddingModelInAChat = try await s.submit(a, Self.job("all-minilm-l6-v2"))
                #expect(embeddingModelInAChat.status == 422 && embeddingModelInAChat.errorCode == "model_kind_mismatch", "\(embeddingModelInAChat.text)")
                let hint = embeddingModelInAChat.json["error"]?["message"]?.stringValue ?? ""
                #expect(hint.contains("simulator-chat") && !hint.contains("all-minilm-l6-v2-int8"), "\(hint)")
                let chatModelInAnEmbedding = try await s.submit(
                    a, ["kind": "embedding", "model": "simulator-fast", "input": ["input": "hello"]])
                #expect(chatModelInAnEmbedding.errorCode == "model_kind_mismatch", "\(chatModelInAnEmbedding.text)")
                let embedding = try await s.submit(a, ["kind": "embedding", "model": "all-minilm-l6-v2-int8", "input": ["input": "hello"]])
                #expect(embedding.status == 202, "\(embedding.text)")
                #expect(try await s.metric(#"api_model_checks_total{result="wrong_kind"}"#) == 2)
            }
        }
    }

    @Test func aGatewayThatStopsAnsweringStopsTheCheck() async throws {
        try await Self.withGateway { gateway, host in
            try await withStack(["GATEWAY_URL": gateway, "API_MODEL_LIST_TTL": "1s"]) { s in
                let a = try await s.signup()
                try await eventually("model list fetched") { try await s.metric(#"api_model_list_refreshes_total{result="ok"}"#) ?? 0 >= 1 }
                #expect(try await s.submit(a, Self.job("gone-model")).errorCode == "model_not_found")
                await host.shutdown()
                // The last list is trusted for 3 × the TTL, then jobs are accepted unchecked.
                try await eventually("accepted unchecked") { try await s.submit(a, Self.job("gone-model")).status == 202 }
                #expect(try await s.metric(#"api_model_list_refreshes_total{result="error"}"#) ?? 0 >= 1)
                #expect(try await s.metric(#"api_model_checks_total{result="unverified"}"#) == 1)
            }
        }
    }

    @Test func submissionsAreAcceptedWhileTheGatewayIsAway() async throws {
        // Nothing listens there.
        try await withStack(["GATEWAY_URL": "http://127.0.0.1:\(TestBinaries.freePort())"]) { s in
            let a = try await s.signup()
            try await eventually("fetch failed") { try await s.metric(#"api_model_list_refreshes_total{result="error"}"#) ?? 0 >= 1 }
            let r = try await s.submit(a, Self.job("any-model-at-all"))
            #expect(r.status == 202, "\(r.text)")
            #expect(try await s.metric(#"api_model_checks_total{result="unverified"}"#) == 1)
            #expect(try await s.receiveJob().message.model == "any-model-at-all")
        }
    }
}
