import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
import BulkheadStorage
import Foundation
import Testing
@testable import QueueBroker

/// What keeps a fleet of streaming jobs cheap for the broker: stream appends whose fsync waits
/// for the next queue commit (or a checkpoint), and reads filtered by event type so a watcher
/// for a rare event is not woken by every token.
@Suite("Queue broker stream traffic")
struct StreamTrafficTests {
    static func event(_ id: Int64) -> StoreOperation {
        .appendEvent(stream: "job-1", event: StreamEvent(id: id, type: "delta", data: Array("\"t\(id)\"".utf8), time: id))
    }

    static func commit(_ store: MessageStore, _ ops: [StoreOperation]) async throws {
        try await store.waitCommitted(store.enqueue(ops))
    }

    @Test func streamOnlyCommitsDeferTheirFsyncUntilAQueueCommitOrTheInterval() async throws {
        let path = FastPathTests.tempPath()
        let store = try MessageStore(path: path, synchronous: .full, streamSyncInterval: .milliseconds(300))
        try await Self.commit(store, [Self.event(1), Self.event(2)])
        #expect(store.commits.load(ordering: .relaxed) == 1)
        #expect(store.deferredCommits.load(ordering: .relaxed) == 1, "a stream-only batch commits without an fsync")

        // A queue operation is fsynced before it is answered, and its fsync covers the events before it.
        try await Self.commit(store, [.upsertQueue(name: "q", settings: Array("{}".utf8))])
        #expect(store.commits.load(ordering: .relaxed) == 2)
        #expect(store.deferredCommits.load(ordering: .relaxed) == 1)

        // Left alone, a deferred commit is made durable by a checkpoint once the interval passes.
        try await Self.commit(store, [Self.event(3)])
        #expect(store.deferredCommits.load(ordering: .relaxed) == 2)
        let deadline = ContinuousClock.now + .seconds(10)
        while store.deferredSyncs.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(store.deferredSyncs.load(ordering: .relaxed) == 1)
        store.close()

        // Everything answered is on disk.
        let reopened = try MessageStore(path: path, synchronous: .full)
        defer { reopened.close() }
        var engine = QueueEngine()
        var streams = StreamLog(maxAge: Int64.max / 2, maxLength: 100)
        try reopened.load(into: &engine, streams: &streams)
        #expect(streams.read("job-1", after: 0, limit: 10).map(\.id) == [1, 2, 3])
    }

    @Test func withoutAnIntervalOrWithNormalSyncNothingIsDeferred() async throws {
        for (sync, interval) in [(SQLiteConfiguration.Synchronous.full, Duration.zero), (.normal, .milliseconds(300))] {
            let store = try MessageStore(path: FastPathTests.tempPath(), synchronous: sync, streamSyncInterval: interval)
            try await Self.commit(store, [Self.event(1)])
            try await Self.commit(store, [Self.event(2)])
            #expect(store.commits.load(ordering: .relaxed) == 2)
            #expect(store.deferredCommits.load(ordering: .relaxed) == 0, "\(sync) with \(interval)")
            store.close()
        }
    }

    @Test func aTypeFilteredLongPollIgnoresOtherEventsAndAnswersTheFirstMatch() async throws {
        try await BrokerHarness.withBroker { _, c in
            let base = "/internal/v1/streams/job-7/events"
            _ = try await c.call(.post, base, "{\"type\":\"status\",\"data\":\"running\"}")
            // Waits for a cancel request only; the deltas appended meanwhile must not end the wait.
            let watcher = Task { try await c.call(.get, base + "?after=1&wait_seconds=10&types=cancel_requested") }
            try await Task.sleep(for: .milliseconds(100))
            for i in 0..<5 {
                let r = try await c.call(.post, base, "{\"type\":\"delta\",\"data\":\"t\(i)\"}")
                #expect(r.status == 201)
            }
            _ = try await c.call(.post, base, "{\"type\":\"cancel_requested\",\"data\":null}")
            let woke = try await watcher.value
            let events = woke.json["events"] as? [any Sendable] ?? []
            #expect(woke.status == 200 && events.count == 1, "only the cancel request: \(woke.text)")
            #expect((events.first as? [String: any Sendable])?["type"] as? String == "cancel_requested")
            #expect(woke.json["last_id"] as? Int == 7)

            // A full page ends at its last event, so the next read continues from there.
            let page = try await c.call(.get, base + "?after=0&limit=2&types=delta,status")
            let ids = (page.json["events"] as? [any Sendable] ?? []).compactMap { ($0 as? [String: any Sendable])?["id"] as? Int }
            #expect(ids == [1, 2] && page.json["last_id"] as? Int == 2)
            // Nothing matches after the last cancel: the scan reaches the stream's end at once.
            let none = try await c.call(.get, base + "?after=0&types=done")
            #expect((none.json["events"] as? [any Sendable])?.isEmpty == true && none.json["last_id"] as? Int == 7)

            for bad in ["", "a,,b", String(repeating: "x", count: 65), (0..<17).map { "t\($0)" }.joined(separator: ",")] {
                let r = try await c.call(.get, base + "?types=" + bad)
                #expect(r.status == 400 && r.errorCode == "invalid_parameter", "types=\(bad)")
            }
        }
    }

    @Test func metricsCountDeferredAndImmediateCommits() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qb-\(UUID().uuidString)").path
        let host = try await ServiceHost.start(
            QueueBrokerService.self,
            environment: Environment([
                "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": dir, "BULKHEAD_INTERNAL_TOKEN": BrokerClient.token,
                "LOOP_THREADS": "1", "LOG_LEVEL": "error", "ACCESS_LOG": "false",
                "QUEUE_SYNCHRONOUS": "full", "STREAM_SYNC_INTERVAL": "1s",
            ]))
        let client = try HTTPClient()
        let c = BrokerClient(port: host.port, client: client)
        do {
            #expect(try await c.call(.post, "/internal/v1/streams/s/events", "{\"data\":1}").status == 201)
            #expect(try await c.createQueue("q").status == 201)
            let text = try await c.call(.get, "/metrics").text
            #expect(text.contains("queue_store_commits{fsync=\"deferred\"} 1"), "\(text)")
            #expect(text.contains("queue_store_commits{fsync=\"immediate\"} "))
            #expect(!text.contains("queue_store_commits{fsync=\"immediate\"} 0"))
        } catch {
            await client.shutdown(); await host.shutdown()
            throw error
        }
        await client.shutdown()
        await host.shutdown()
    }
}
