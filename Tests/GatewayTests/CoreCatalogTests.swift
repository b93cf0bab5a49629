import BulkheadObservability
import BulkheadService
import Foundation
@testable import InferenceGateway
import Testing

/// The catalog: validation with errors naming the field, the built-in default, `/v1/models`,
/// and reloads that keep in-flight requests and refuse bad files.
@Suite("Core: catalog")
struct CoreCatalogTests {
    static func parse(_ text: String, env: [String: String] = [:]) -> String? {
        do throws(CatalogError) {
            _ = try CatalogLoader.parse(Data(text.utf8), environment: env)
            return nil
        } catch { return error.message }
    }

    @Test(arguments: [
        (#"{"models":[]}"#, "'models' must list at least one model"),
        (#"not json"#, "not valid JSON"),
        (#"{"modles":[]}"#, "catalog.modles: unknown field"),
        (#"{"models":[{"name":"m","deployments":[{"provider":"openai","weight":0}]}]}"#, "models[0].deployments[0].weight: must be a number > 0"),
        (#"{"models":[{"name":"m","deployments":[{"provider":"bedrock"}]}]}"#, "models[0].deployments[0].provider: 'bedrock' is not one of"),
        (#"{"models":[{"name":"m","deployments":[{"provider":"openai","price":{"input":-1}}]}]}"#, "models[0].deployments[0].price.input: must be ≥ 0"),
        (#"{"models":[{"name":"m","deployments":[{"provider":"openai","api_key_env":"NOPE_NOT_SET"}]}]}"#, "models[0].deployments[0].api_key_env: the environment variable NOPE_NOT_SET is not set"),
        (#"{"models":[{"name":"m","fallbacks":["x"],"deployments":[{"provider":"simulator"}]}]}"#, "models[0].fallbacks[0]: no model named 'x'"),
        (#"{"models":[{"name":"m","strategy":"fastest","deployments":[{"provider":"simulator"}]}]}"#, "models[0].strategy: 'fastest' is not one of"),
        (#"{"models":[{"name":"m","deployments":[{"provider":"openai","base_url":"ftp://x"}]}]}"#, "models[0].deployments[0].base_url: must start with http"),
        (#"{"models":[{"name":"m","deployments":[{"provider":"simulator","timeouts":{"total_ms":0}}]}]}"#, "models[0].deployments[0].timeouts.total_ms: must be between"),
        (#"{"models":[{"name":"m","deployments":[{"id":"x","provider":"simulator"}]},{"name":"n","deployments":[{"id":"x","provider":"simulator"}]}]}"#, "models[1].deployments[0].id: 'x' is used by another deployment"),
        (#"{"models":[{"name":"m","deployments":[{"provider":"local","upstream_model":"bert"}]}]}"#, "models[0].deployments[0].upstream_model: the local provider serves"),
    ])
    func invalidCatalogsNameTheField(text: String, expected: String) {
        let message = Self.parse(text)
        #expect(message?.contains(expected) == true, "got: \(message ?? "no error")")
    }

    @Test func credentialsComeFromTheEnvironmentAndAreNeverPrinted() throws {
        let catalog = try CatalogLoader.parse(
            Data(#"{"models":[{"name":"m","deployments":[{"id":"d","provider":"openai","api_key_env":"K"}]}]}"#.utf8),
            environment: ["K": "sk-secret-value"])
        let d = try #require(catalog.model("m")?.deployments.first)
        #expect(d.apiKey == "sk-secret-value")
        #expect(!d.description.contains("sk-secret-value"))
        #expect(d.baseURL == "https://api.openai.com/v1")
    }

    @Test func defaultCatalogServesLocalModelsAndSimulators() async throws {
        let catalog = try CatalogLoader.parse(Data(DefaultCatalog.json.utf8), environment: [:])
        #expect(catalog.models.map(\.name) == ["all-minilm-l6-v2", "all-minilm-l6-v2-int8", "simulator-fast", "simulator-chat"])
        #expect(catalog.model("simulator-chat")?.ownedBy == "bulkhead-simulator")
        #expect(catalog.model("all-minilm-l6-v2")?.kind == .embeddings)
    }

    @Test func badCatalogAtStartIsAConfigurationProblem() async throws {
        await #expect(throws: (any Error).self) {
            let gw = try await CoreGateway.start(catalog: #"{"models":[{"name":"m","deployments":[{"provider":"nope"}]}]}"#)
            await gw.stop()
        }
    }

    @Test func modelsListsTheCatalogInOpenAIShape() async throws {
        let gw = try await CoreGateway.start(catalog: DefaultCatalog.json)
        let r = try await gw.get("/v1/models")
        #expect(r.status == 200)
        #expect(r.json["object"] as? String == "list")
        let data = try #require(r.json["data"] as? [[String: Any]])
        #expect(data.compactMap { $0["id"] as? String } == ["all-minilm-l6-v2", "all-minilm-l6-v2-int8", "simulator-fast", "simulator-chat"])
        #expect(data.allSatisfy { $0["object"] as? String == "model" && $0["created"] is Int })
        #expect(data.last?["owned_by"] as? String == "bulkhead-simulator")
        #expect(data.compactMap { $0["kind"] as? String } == ["embeddings", "embeddings", "chat", "chat"])
        let one = try await gw.get("/v1/models/simulator-fast")
        #expect(one.json["id"] as? String == "simulator-fast")
        let missing = try await gw.get("/v1/models/nope")
        #expect(missing.status == 404)
        #expect(missing.error["code"] as? String == "model_not_found")
        await gw.stop()
    }

    @Test func reloadSwapsTheCatalogWithoutDroppingAnInFlightRequest() async throws {
        let fake = try FakeUpstream()
        fake.defaultBehavior = .reply(FakeReply(text: "slow but sure", ttft: .milliseconds(400)))
        let first = TestCatalog.catalog([TestCatalog.model("m", deployments: [TestCatalog.deployment(id: "old", baseURL: fake.openAIBaseURL)])])
        let gw = try await CoreGateway.start(catalog: first)
        let core = try #require(gw.core)
        let inFlight = Task { try await gw.post("/v1/chat/completions", chatBody(model: "m")) }
        // Wait until the upstream has the request, then swap the catalog under it.
        let deadline = ContinuousClock.now + .seconds(5)
        while fake.requestCount == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try gw.writeCatalog(TestCatalog.catalog([
            TestCatalog.model("renamed", deployments: [TestCatalog.deployment(id: "new", provider: "simulator")])
        ]))
        #expect(core.reloadCatalog() == nil)
        let answer = try await inFlight.value
        #expect(answer.status == 200)
        #expect(answer.header("x-bulkhead-deployment") == "old")
        let models = try await gw.get("/v1/models").json["data"] as? [[String: Any]]
        #expect(models?.compactMap { $0["id"] as? String } == ["renamed"])
        #expect(try await gw.post("/v1/chat/completions", chatBody(model: "m")).status == 404)

        // A bad file keeps the current catalog and says why.
        try gw.writeCatalog(#"{"models":[{"name":"x","deployments":[{"provider":"simulator","weight":-1}]}]}"#)
        #expect(core.reloadCatalog()?.contains("models[0].deployments[0].weight") == true)
        #expect(try await gw.post("/v1/chat/completions", chatBody(model: "renamed")).status == 200)
        await gw.stop()
        await fake.shutdown()
    }
}
