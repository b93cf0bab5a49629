import BulkheadTesting
import Foundation
import Testing

/// The official `openai` Python SDK, pointed at the gateway: chat, streaming with usage,
/// embeddings (through a fake OpenAI-compatible upstream) and errors.
@Suite("SDK: openai")
struct SDKTests {
    /// The repository's virtual environment with the `openai` package (requirements-dev.txt).
    static var python: String? {
        var dir = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent(".venv/bin/python").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }

    static var script: String {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("sdk/openai_sdk_check.py").path
    }

    @Test(.enabled(if: python != nil, "needs .venv with the openai package (scripts/test installs it)"), .timeLimit(.minutes(1)))
    func officialOpenAISDKWorksAgainstTheGateway() async throws {
        let fake = try FakeUpstream()
        let gw = try await CoreGateway.start(catalog: TestCatalog.catalog([
            #"{"name":"simulator-fast","deployments":[{"id":"sim","provider":"simulator","price":{"input":0.1,"output":0.4},"simulator":{"output_tokens":12}}]}"#,
            #"{"name":"embed","kind":"embeddings","deployments":[{"id":"e1","provider":"openai","base_url":"\#(fake.openAIBaseURL)"}]}"#,
        ]))
        let python = try #require(Self.python)
        let process = try TestProcess(
            path: python, arguments: [Self.script],
            environment: [
                "GATEWAY_BASE_URL": gw.base + "/v1", "GATEWAY_API_KEY": "sk-anything", "CHAT_MODEL": "simulator-fast",
                "EMBEDDINGS_MODEL": "embed", "PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
            ])
        let status = await process.waitForExit(timeout: .seconds(45))
        let output = process.output
        #expect(status == 0, "\(output)")
        #expect(output.contains("ALL OK"), "\(output)")
        #expect(output.contains("ok stream.usage"))
        #expect(output.contains("ok errors.not_found"))
        #expect(output.contains("ok embeddings.count"))
        await gw.stop()
        await fake.shutdown()
    }
}
