import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadTesting
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// SIGHUP on the real executable: the catalog is swapped without dropping an in-flight stream,
/// and a bad file keeps the old catalog.
@Suite("Core: SIGHUP reload (process)")
struct CoreReloadProcessTests {
    static func catalog(_ name: String, ttft: Int) -> String {
        TestCatalog.catalog([
            #"{"name":"\#(name)","deployments":[{"id":"\#(name)-sim","provider":"simulator","simulator":{"ttft_ms":\#(ttft),"output_tokens":8}}]}"#
        ])
    }

    static func modelIDs(_ client: HTTPClient, _ base: String) async -> [String] {
        guard let r = try? await client.get(base + "/v1/models"), let body = try? await r.body.collect(upTo: 1 << 20),
            let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        else { return [] }
        return (json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
    }

    @Test(.enabled(if: TestBinaries.path("inference-gateway") != nil, "needs the inference-gateway executable (swift build)"), .timeLimit(.minutes(1)))
    func sighupReloadsWithoutDroppingInFlightRequests() async throws {
        let bin = try #require(TestBinaries.path("inference-gateway"))
        let dir = NSTemporaryDirectory() + "gw-hup-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/catalog.json"
        try Data(Self.catalog("before", ttft: 700).utf8).write(to: URL(fileURLWithPath: path))
        let port = TestBinaries.freePort()
        let process = try TestProcess(path: bin, environment: [
            "HOST": "127.0.0.1", "PORT": String(port), "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": "t", "LOG_LEVEL": "warning",
            "ACCESS_LOG": "false", "LOOP_THREADS": "1", "GATEWAY_CATALOG": path,
        ])
        let client = try HTTPClient()
        let base = "http://127.0.0.1:\(port)"
        let deadline = ContinuousClock.now + .seconds(20)
        while await Self.modelIDs(client, base) != ["before"] && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await Self.modelIDs(client, base) == ["before"])

        // A stream in flight (first token after 700 ms) while the catalog changes under it.
        var request = HTTPClientRequest(method: .post, url: base + "/v1/chat/completions", body: Array(chatBody(model: "before", stream: true).utf8))
        request.headers.add(name: "Content-Type", value: "application/json")
        let inFlight = Task { () -> (Int, String) in
            let response = try await client.execute(request, timeout: .seconds(10))
            return (response.status.code, try await response.body.collectString(upTo: 1 << 20))
        }
        try await Task.sleep(for: .milliseconds(100))
        try Data(Self.catalog("after", ttft: 0).utf8).write(to: URL(fileURLWithPath: path))
        process.signal(SIGHUP)
        let swapDeadline = ContinuousClock.now + .seconds(10)
        while await Self.modelIDs(client, base) != ["after"] && ContinuousClock.now < swapDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(await Self.modelIDs(client, base) == ["after"])
        let (status, body) = try await inFlight.value
        #expect(status == 200)
        #expect(body.hasSuffix("data: [DONE]\n\n"), "\(body)")

        // A broken file: the process keeps serving the last good catalog.
        try Data("{broken".utf8).write(to: URL(fileURLWithPath: path))
        process.signal(SIGHUP)
        try await Task.sleep(for: .milliseconds(300))
        #expect(process.isRunning)
        #expect(await Self.modelIDs(client, base) == ["after"])

        process.signal(SIGTERM)
        #expect(await process.waitForExit(timeout: .seconds(10)) == 0)
        #expect(process.output.contains("catalog reload failed"))
        await client.shutdown()
    }
}
