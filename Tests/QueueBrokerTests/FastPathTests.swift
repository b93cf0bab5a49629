import BulkheadStorage
import Foundation
import Testing
@testable import QueueBroker

/// The throughput work: bodies kept as sent, strict hand-read JSON, waking only the
/// receivers a send can feed, and the batched SQL of a group commit.
@Suite("Queue broker fast paths")
struct FastPathTests {
    static func tempPath() -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qb-fast-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path + "/q.sqlite"
    }

    @Test func bodyComesBackByteForByteAsSent() async throws {
        try await BrokerHarness.withBroker { _, c in
            _ = try await c.createQueue("raw", "{}")
            // Spacing, "2.50" and the \u escape would all change if the body were decoded and re-encoded.
            let body = #"{ "b" : [1, 2.50, "x\u00e9", {"k":null}] }"#
            let sent = try await c.call(.post, "/internal/v1/queues/raw/messages", "{\"body\":\(body),\"priority\":3}")
            #expect(sent.status == 201)
            let got = try await c.call(.post, "/internal/v1/queues/raw/receive", "{\"max_messages\":1}")
            #expect(got.text.contains("\"body\":\(body)}"), "\(got.text)")
        }
    }

    @Test func scannerRejectsMalformedJSONAndAcceptsValid() throws {
        let bad = [
            #"{"body":[1,]}"#, #"{"body":01}"#, #"{"body":tru}"#, #"{"body":1} x"#, #"{"body":"a"#, #"{"body":"\q"}"#,
            #"{"body":"\ud800"}"#, #"{"body":1.}"#, #"{"body":-}"#, "{\"body\":\"\u{01}\"}", #"{"body" 1}"#, "",
        ]
        for text in bad {
            #expect(throws: (any Error).self, "\(text)") { _ = try SendRequest.parse(Array(text.utf8)) }
        }
        var invalidUTF8 = Array(#"{"body":"x"}"#.utf8)
        invalidUTF8[9] = 0xFF
        #expect(throws: (any Error).self) { _ = try SendRequest.parse(invalidUTF8) }

        let ok = try SendRequest.parse(Array(#" {"body": -1.5e3 , "tenant":"t\n", "attributes":{"a":"\ud83d\ude00"}, "delay_seconds":null} "#.utf8))
        #expect(ok.body == Array("-1.5e3".utf8))
        #expect(ok.tenant == "t\n")
        #expect(ok.attributes == ["a": "😀"])
        #expect(ok.delaySeconds == nil)
    }

    @Test func batchErrorsNameTheNestedField() async throws {
        try await BrokerHarness.withBroker { _, c in
            _ = try await c.createQueue("nested", "{}")
            var r = try await c.call(.post, "/internal/v1/queues/nested/messages/batch", #"{"messages":[{"body":1},{"body":1,"priority":"high"}]}"#)
            #expect(r.status == 422 && r.errorCode == "invalid_field" && r.text.contains("messages[1].priority"), "\(r.text)")
            r = try await c.call(.post, "/internal/v1/queues/nested/messages/batch", #"{"messages":[{"body":1},{"bdy":1}]}"#)
            #expect(r.status == 422 && r.errorCode == "unknown_field" && r.text.contains("messages[1].bdy"), "\(r.text)")
            r = try await c.call(.post, "/internal/v1/queues/nested/messages/batch", #"{"messages":[{"priority":1}]}"#)
            #expect(r.status == 422 && r.errorCode == "missing_field" && r.text.contains("messages[0].body"), "\(r.text)")
            r = try await c.call(.post, "/internal/v1/queues/nested/messages/batch", #"{"messages":[{"body":[}]}"#)
            #expect(r.status == 400 && r.errorCode == "invalid_json")
        }
    }

    /// Parks `count` receivers on `queue` and waits (with a deadline) until all are parked.
    static func park(_ broker: Broker, _ queue: String, count: Int, max: Int) async throws -> [Task<Int, any Error>] {
        let tasks = (0..<count).map { _ in
            Task { try await broker.receive(queue, max: max, visibilitySeconds: nil, waitSeconds: 20).count }
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while await broker.parkedCount < count {
            guard ContinuousClock.now < deadline else { break }
            await Task.yield()
            try await Task.sleep(for: .milliseconds(1))
        }
        try #require(await broker.parkedCount == count)
        return tasks
    }

    @Test func aSendWakesOnlyTheReceiversItCanFeed() async throws {
        let broker = try Broker(store: nil)
        _ = try await broker.putQueue("w", settings: QueueSettings())
        let tasks = try await Self.park(broker, "w", count: 3, max: 10)
        _ = try await broker.send("w", [OutgoingMessage(body: Array("1".utf8)), OutgoingMessage(body: Array("2".utf8))])
        // One receiver (wanting up to 10) is enough for two messages: the other two stay parked.
        #expect(await broker.parkedCount == 2)
        var received = 0
        for t in tasks { t.cancel() }
        for t in tasks { received += try await t.value }
        #expect(received == 2)
        #expect(await broker.parkedCount == 0)
    }

    @Test func wakeUpsCoverEveryMessageWhenReceiversTakeOne() async throws {
        let broker = try Broker(store: nil)
        _ = try await broker.putQueue("w1", settings: QueueSettings())
        let tasks = try await Self.park(broker, "w1", count: 4, max: 1)
        _ = try await broker.send("w1", (0..<3).map { OutgoingMessage(body: Array("\($0)".utf8)) })
        // Three receivers are woken (one per message they can take); the fourth stays parked.
        #expect(await broker.parkedCount == 1)
        for t in tasks { t.cancel() }
        var got = 0
        for t in tasks { got += try await t.value }
        #expect(got == 3)
    }

    @Test func groupCommitBatchesSQLAndSkipsMessagesAckedBeforeTheCommit() throws {
        let path = Self.tempPath()
        let db = try SQLiteDatabase(path: path, configuration: SQLiteConfiguration(synchronous: .full))
        try MessageStore.migrator.migrate(db)
        var engine = QueueEngine()
        try engine.createQueue("g", settings: QueueSettings(), now: 0)
        _ = try engine.send("g", (0..<45).map { OutgoingMessage(body: Array("\($0)".utf8)) }, now: 0)  // 32 + 8 + 5 rows
        let got = try engine.receive("g", max: 10, visibilitySeconds: 30, now: 1)
        for d in got.prefix(4) { try engine.ack("g", receipt: d.receipt, now: 2) }
        try db.transaction { t in try MessageStore.apply(engine.outbox, to: t) }
        engine.outbox.removeAll()

        #expect(try db.queryFirst("SELECT count(*) FROM messages")?.int64(0) == 41)
        #expect(try db.queryFirst("SELECT count(*) FROM messages WHERE state = 2")?.int64(0) == 6)
        #expect(try db.queryFirst("SELECT value FROM meta WHERE key = 'last_id'")?.int64(0) == 45)

        // A later commit: deletes and delivery updates of rows already on disk.
        for d in got.dropFirst(4) { try engine.ack("g", receipt: d.receipt, now: 3) }
        let more = try engine.receive("g", max: 10, visibilitySeconds: 30, now: 4)
        try engine.ack("g", receipt: more[0].receipt, now: 5)
        try db.transaction { t in try MessageStore.apply(engine.outbox, to: t) }
        #expect(try db.queryFirst("SELECT count(*) FROM messages")?.int64(0) == 34)
        #expect(try db.queryFirst("SELECT count(*) FROM messages WHERE state = 2 AND receive_count = 1")?.int64(0) == 9)

        // What is on disk loads back into the same state.
        let store = try MessageStore(path: path, synchronous: .full)
        defer { store.close() }
        var loaded = QueueEngine()
        var streams = StreamLog(maxAge: 1000, maxLength: 10)
        try store.load(into: &loaded, streams: &streams)
        let a = try engine.stats("g", now: 10), b = try loaded.stats("g", now: 10)
        #expect(a.visible == b.visible && a.inFlight == b.inFlight && a.visible == 25 && a.inFlight == 9)
    }
}
