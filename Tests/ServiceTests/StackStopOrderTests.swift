import BulkheadObservability
import Foundation
import StackRunner
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `bulkhead run`'s stop order: the processes that write to others (worker, api-core, gateway)
/// are stopped and gone before the services they write to get SIGTERM. Real child processes:
/// `/bin/sh` scripts that log when they get SIGTERM and when they exit.
@Suite("Stack stop order")
struct StackStopOrderTests {
    @Test func writersStopFirstThenWhatTheyWriteTo() {
        let stages = StackStopper.stages(StackService.all, name: \.name)
        #expect(stages.map { $0.map(\.name) } == [
            ["api-core", "inference-gateway", "inference-worker"],
            ["auth", "queue-broker", "cache", "metrics", "autoscaler"],
        ])
        // Every process is stopped exactly once.
        #expect(stages.flatMap { $0 }.count == StackService.all.count)
        #expect(StackStopper.stages([StackService.cache], name: \.name).map { $0.map(\.name) } == [["cache"]])
    }

    @Test func infrastructureGetsSIGTERMOnlyAfterEveryWriterExited() async throws {
        let dir = try stopTestDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logs = InMemoryLogSink()
        // Writers take a moment to drain after SIGTERM, as the worker does.
        let supervisors = try StackService.all.map { service in
            let drain = StackStopper.writers.contains(service.name) ? "sleep 0.3; " : ""
            return try fakeSupervisor(service, dir: dir, onTerm: "\(drain)exit 0", logs: logs)
        }
        for s in supervisors { s.start() }
        try await waitForStarts(StackService.all.count, dir: dir)

        await StackStopper(stopTimeout: .seconds(10), logger: Logger(service: "bulkhead", sink: logs), stopRequests: StopRequests())
            .stop(supervisors)

        #expect(supervisors.allSatisfy { $0.isFinished })
        let events = try lines(dir)
        let writers = StackStopper.writers
        let infrastructure = StackService.all.map(\.name).filter { !writers.contains($0) }
        for name in StackService.all.map(\.name) { #expect(events.contains("term \(name)"), "\(name) got no SIGTERM: \(events)") }
        for name in writers { #expect(events.contains("exit \(name)"), "\(name) did not exit by itself: \(events)") }
        let lastWriterExit = try #require(writers.compactMap { events.firstIndex(of: "exit \($0)") }.max())
        let firstInfrastructureTerm = try #require(infrastructure.compactMap { events.firstIndex(of: "term \($0)") }.min())
        #expect(lastWriterExit < firstInfrastructureTerm, "order: \(events)")
        #expect(!logs.lines.contains { $0.contains("killing services that did not stop") })
    }

    @Test func aWriterThatIgnoresSIGTERMIsKilledAfterTheTimeoutAndTheRestStillStop() async throws {
        let dir = try stopTestDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logs = InMemoryLogSink()
        let stubborn = try fakeSupervisor(.inferenceWorker, dir: dir, onTerm: ":", logs: logs)  // logs, then keeps running
        let broker = try fakeSupervisor(.queueBroker, dir: dir, onTerm: "exit 0", logs: logs)
        let supervisors = [broker, stubborn]
        for s in supervisors { s.start() }
        try await waitForStarts(2, dir: dir)
        let pid = try #require(stubborn.pid)

        await StackStopper(stopTimeout: .milliseconds(500), logger: Logger(service: "bulkhead", sink: logs), stopRequests: StopRequests())
            .stop(supervisors)

        #expect(supervisors.allSatisfy { $0.isFinished })
        #expect(kill(pid, 0) != 0)  // killed and reaped
        let events = try lines(dir)
        let workerTerm = try #require(events.firstIndex(of: "term inference-worker"))
        let brokerTerm = try #require(events.firstIndex(of: "term queue-broker"))
        #expect(workerTerm < brokerTerm)
        #expect(!events.contains("exit inference-worker"))
        #expect(logs.lines.contains { $0.contains("killing services that did not stop") && $0.contains("inference-worker") })
        #expect(logs.lines.contains { $0.contains("\"msg\":\"service stopped\"") && $0.contains("\"signal\":9") })
    }
}

// MARK: - Helpers

private func stopTestDirectory() throws -> String {
    var template = Array("/tmp/stack-stop-test-XXXXXX".utf8CString)
    guard let p = mkdtemp(&template) else { throw StopTestError("mkdtemp failed") }
    return String(cString: p)
}

/// A supervisor of a `/bin/sh` script named like `service` that appends `start NAME`, on SIGTERM
/// `term NAME` then runs `onTerm`, and `exit NAME` when it leaves through the trap's `exit`.
private func fakeSupervisor(_ service: StackService, dir: String, onTerm: String, logs: InMemoryLogSink) throws -> ServiceSupervisor {
    let name = service.name
    let log = dir + "/events"
    let trapBody = onTerm.replacingOccurrences(of: "exit 0", with: "echo \"exit \(name)\" >> \"\(log)\"; exit 0")
    let body = """
        #!/bin/sh
        trap 'echo "term \(name)" >> "\(log)"; \(trapBody)' TERM
        echo "start \(name)" >> "\(log)"
        while :; do sleep 1 & wait $!; done
        """
    let path = dir + "/" + name
    try (body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    guard chmod(path, 0o755) == 0 else { throw StopTestError("chmod \(path) failed") }
    return ServiceSupervisor(
        service: service, launch: .init(executable: path, environment: ["PATH=/usr/bin:/bin"], trampoline: nil),
        logger: Logger(service: "bulkhead", sink: logs))
}

/// Waits (with a deadline) until `count` scripts have installed their trap and logged `start`.
private func waitForStarts(_ count: Int, dir: String) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        if (try? lines(dir))?.filter({ $0.hasPrefix("start ") }).count == count { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw StopTestError("the fake services did not all start: \((try? lines(dir)) ?? [])")
}

private func lines(_ dir: String) throws -> [String] {
    try String(contentsOfFile: dir + "/events", encoding: .utf8).split(separator: "\n").map(String.init)
}

private struct StopTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
