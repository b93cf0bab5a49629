import BulkheadTesting
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The seven real executables, as separate processes: they start, serve the common routes,
/// log JSON with request ids, never print the internal credential, and stop cleanly on SIGTERM.
@Suite("Service executables")
struct ExecutablesTests {
    static let names = ["api-core", "auth", "inference-gateway", "queue-broker", "cache", "metrics", "autoscaler"]

    @Test(arguments: names)
    func executableStartsServesAndStopsCleanly(name: String) async throws {
        let path = TestBinaries.directory + "/" + name
        try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: run `swift build` first (scripts/test does)")
        let port = TestBinaries.freePort()
        let secret = "internal-\(UUID().uuidString)"
        let process = try TestProcess(
            path: path,
            environment: [
                "HOST": "127.0.0.1", "PORT": String(port), "BULKHEAD_INTERNAL_TOKEN": secret,
                "DATA_DIR": NSTemporaryDirectory() + "bulkhead-exe-\(UUID().uuidString)", "LOOP_THREADS": "1",
            ])

        var health: TestResponse?
        let deadline = ContinuousClock.now + .seconds(20)
        while health == nil && ContinuousClock.now < deadline {
            if let c = try? RawConnection(port: port) {
                try c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                health = try? c.readResponse()
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(health?.status == 200)
        let c = try RawConnection(port: port)
        try c.send("GET /readyz HTTP/1.1\r\nHost: x\r\nX-Request-Id: probe-\(name)\r\n\r\n")
        #expect(try c.readResponse().status == 200)
        try c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try c.readResponse().text.contains("http_requests_total"))

        process.signal(SIGTERM)
        let status = await process.waitForExit(timeout: .seconds(10))
        #expect(status == 0, "\(name) did not stop cleanly within 10 s of SIGTERM (status \(String(describing: status)))")

        let log = process.output
        let lines = log.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["level"] != nil && object?["service"] as? String == name, "not a JSON log line: \(line)")
        }
        #expect(lines.contains { $0.contains(#""request_id":"probe-\#(name)""#) && $0.contains(#""msg":"request""#) })
        #expect(!log.contains(secret), "the internal credential leaked into the logs")
        #expect(log.contains("BULKHEAD_INTERNAL_TOKEN=***"))
    }
}
