import BulkheadHTTPClient
import BulkheadTesting
import Foundation
import Synchronization
import Testing

/// Kills the real `queue-broker` executable with SIGKILL under load and checks that every send
/// it answered is delivered after a restart on the same DATA_DIR.
@Suite("Queue broker crash recovery")
struct CrashRecoveryTests {
    static func start(_ bin: String, port: Int, dataDir: String) throws -> TestProcess {
        try TestProcess(path: bin, environment: [
            "HOST": "127.0.0.1", "PORT": "\(port)", "DATA_DIR": dataDir, "BULKHEAD_INTERNAL_TOKEN": BrokerClient.token,
            "LOG_LEVEL": "error", "ACCESS_LOG": "false", "QUEUE_SYNCHRONOUS": "full",
        ])
    }

    static func waitHealthy(_ c: BrokerClient) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let r = try? await c.call(.get, "/healthz"), r.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("broker did not become healthy")
    }

    @Test func sigkillDuringLoadLosesNoAnsweredSend() async throws {
        let bin = try #require(TestBinaries.path("queue-broker"), "queue-broker binary not found; set BULKHEAD_BIN_DIR")
        let dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("qb-crash-\(UUID().uuidString)").path
        let port = TestBinaries.freePort()
        let client = try HTTPClient()
        defer { Task { await client.shutdown() } }
        let c = BrokerClient(port: port, client: client)

        var process = try Self.start(bin, port: port, dataDir: dataDir)
        try await Self.waitHealthy(c)
        #expect(try await c.createQueue("durable").status == 201)

        let answered = AnsweredIDs()
        let producers = (0..<8).map { p in
            Task {
                var i = 0
                while !Task.isCancelled {
                    // Errors are expected once the broker dies; only answered sends count.
                    guard let id = try? await c.send("durable", "{\"body\":{\"p\":\(p),\"i\":\(i)}}") else { return }
                    answered.ids.withLock { _ = $0.insert(id) }
                    i += 1
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while answered.ids.withLock({ $0.count }) < 300 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        process.signal(SIGKILL)  // mid-load: producers are still sending
        #expect(await process.waitForExit(timeout: .seconds(10)) == 128 + SIGKILL)
        for p in producers { _ = await p.value }
        let acknowledged = answered.ids.withLock { $0 }
        #expect(acknowledged.count >= 300)

        process = try Self.start(bin, port: port, dataDir: dataDir)
        try await Self.waitHealthy(c)
        var received = Set<Int>()
        while true {
            let got = try await c.receive("durable", max: 10)
            if got.isEmpty { break }
            for m in got { received.insert(m.id) }
        }
        let missing = acknowledged.subtracting(received)
        #expect(missing.isEmpty, "\(missing.count) answered sends lost, e.g. \(missing.prefix(5))")
        process.signal(SIGTERM)
        _ = await process.waitForExit(timeout: .seconds(10))
        try? FileManager.default.removeItem(atPath: dataDir)
    }
}

final class AnsweredIDs: Sendable {
    let ids = Mutex<Set<Int>>([])
}
