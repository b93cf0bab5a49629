import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadService
import BulkheadTesting
import Foundation
import QueueBroker
import Synchronization
import Testing

/// The broker over real HTTP on port 0.
@Suite("Queue broker over HTTP")
struct BrokerHTTPTests {
    @Test func concurrentProducersAndConsumersLoseNothingAndNeverDoubleLease() async throws {
        try await BrokerHarness.withBroker { _, c in
            #expect(try await c.createQueue("work").status == 201)
            let producers = 4, perProducer = 100
            let total = producers * perProducer
            // Each lease is recorded; a message leased while another lease of it is live fails the test.
            let t = LeaseTracker()
            let sent = try await withThrowingTaskGroup(of: [Int].self) { group in
                for p in 0..<producers {
                    group.addTask {
                        var ids: [Int] = []
                        for i in 0..<perProducer { ids.append(try await c.send("work", "{\"body\":{\"p\":\(p),\"i\":\(i)}}")) }
                        return ids
                    }
                }
                for _ in 0..<4 {
                    group.addTask {
                        let deadline = ContinuousClock.now + .seconds(30)
                        while t.acked.withLock({ $0.count }) < total && ContinuousClock.now < deadline {
                            for m in try await c.receive("work", max: 10, wait: 0.2, visibility: 30) {
                                let fresh = t.live.withLock { $0.insert(m.id).inserted }
                                if !fresh { t.doubleLeases.add(1, ordering: .relaxed) }
                                let r = try await c.ack("work", m.receipt)
                                // Removed only after the ack, so overlapping leases of one message are caught.
                                t.live.withLock { _ = $0.remove(m.id) }
                                if r.status == 204 { t.acked.withLock { $0[m.id, default: 0] += 1 } }
                            }
                        }
                        return []
                    }
                }
                var all: [Int] = []
                for try await ids in group { all += ids }
                return all
            }
            #expect(Set(sent).count == total)
            let got = t.acked.withLock { $0 }
            #expect(Set(got.keys) == Set(sent), "every answered send was delivered and acked")
            #expect(got.values.allSatisfy { $0 == 1 }, "no message acked twice")
            #expect(t.doubleLeases.load(ordering: .relaxed) == 0)
            let stats = try await c.call(.get, "/internal/v1/queues/work/stats")
            #expect(stats.json["visible"] as? Int == 0 && stats.json["in_flight"] as? Int == 0)
            #expect(stats.json["acked_total"] as? Int == total)
        }
    }

    @Test func longPollWakesWithin50msOfASend() async throws {
        try await BrokerHarness.withBroker { host, c in
            _ = try await c.createQueue("lp")
            // Both sides run on their own OS threads with blocking sockets, so the measurement is
            // the broker's wake-up, not how soon a busy 2-thread cooperative pool schedules a test task.
            let port = host.port
            let woke = Mutex<ContinuousClock.Instant?>(nil)
            let sent = Mutex<ContinuousClock.Instant?>(nil)
            let failure = Mutex<String?>(nil)
            let auth = "Authorization: Bearer \(BrokerClient.token)\r\nContent-Type: application/json\r\n"
            Thread.detachNewThread {
                do {
                    let r = try RawConnection(port: port)
                    let body = #"{"max_messages":1,"wait_seconds":10}"#
                    try r.send("POST /internal/v1/queues/lp/receive HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
                    let response = try r.readResponse(timeout: .seconds(15))
                    woke.withLock { $0 = ContinuousClock.now }
                    if !response.text.contains("wake") { failure.withLock { $0 = "receive got: \(response.text)" } }
                } catch {
                    failure.withLock { $0 = "receiver: \(error)" }
                }
            }
            try await Task.sleep(for: .milliseconds(300))  // let the receive park
            Thread.detachNewThread {
                do {
                    let s = try RawConnection(port: port)
                    let body = #"{"body":"wake"}"#
                    let request = "POST /internal/v1/queues/lp/messages HTTP/1.1\r\nHost: x\r\n\(auth)Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
                    sent.withLock { $0 = ContinuousClock.now }
                    try s.send(request)
                    _ = try s.readResponse(timeout: .seconds(10))
                } catch {
                    failure.withLock { $0 = "sender: \(error)" }
                }
            }
            let deadline = ContinuousClock.now + .seconds(15)
            while woke.withLock({ $0 }) == nil && failure.withLock({ $0 }) == nil && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(failure.withLock { $0 } == nil, "\(failure.withLock { $0 } ?? "")")
            let wokeAt = try #require(woke.withLock { $0 })
            let sentAt = try #require(sent.withLock { $0 })
            let latency = wokeAt - sentAt
            #expect(latency < .milliseconds(50), "long poll woke after \(latency)")
        }
    }

    @Test func longPollTimesOutEmptyAndLeaseExpiryRedeliversOverHTTP() async throws {
        try await BrokerHarness.withBroker { _, c in
            _ = try await c.createQueue("exp")
            let start = ContinuousClock.now
            #expect(try await c.receive("exp", max: 1, wait: 0.3).isEmpty)
            #expect(ContinuousClock.now - start >= .milliseconds(290))
            _ = try await c.send("exp", "{\"body\":1}")
            let first = try await c.receive("exp", max: 1, visibility: 0.2)
            #expect(first.count == 1)
            // A parked receive wakes on the lease expiry timer, not on a send.
            let again = try await c.receive("exp", max: 1, wait: 5)
            #expect(again.first?.id == first.first?.id && again.first?.count == 2)
            let stale = try await c.ack("exp", first[0].receipt)
            #expect(stale.status == 400 && stale.errorCode == "invalid_receipt")
            #expect(try await c.ack("exp", again[0].receipt).status == 204)
        }
    }

    @Test func deadLettersOverHTTPInspectRedrivePurge() async throws {
        try await BrokerHarness.withBroker { _, c in
            _ = try await c.createQueue("dl", "{\"max_receives\":2}")
            let id = try await c.send("dl", "{\"body\":{\"x\":1}}")
            for _ in 0..<2 {
                let m = try await c.receive("dl", max: 1)
                #expect(try await c.call(.post, "/internal/v1/queues/dl/nack", "{\"receipt\":\"\(m[0].receipt)\",\"delay_seconds\":0}").status == 200)
            }
            #expect(try await c.receive("dl", max: 1).isEmpty)
            let dead = try await c.call(.get, "/internal/v1/queues/dl/dead-letters")
            let list = dead.json["messages"] as? [any Sendable] ?? []
            let first = list.first as? [String: any Sendable]
            #expect(first?["id"] as? Int == id && first?["receive_count"] as? Int == 2)
            #expect(first?["dead_letter_reason"] as? String == "max_receives_exceeded")
            #expect(try await c.call(.post, "/internal/v1/queues/dl/dead-letters/redrive").json["redriven"] as? Int == 1)
            let back = try await c.receive("dl", max: 1)
            #expect(back.first?.id == id)
            _ = try await c.call(.post, "/internal/v1/queues/dl/nack", "{\"receipt\":\"\(back[0].receipt)\",\"delay_seconds\":0}")
            for m in try await c.receive("dl", max: 1) {
                _ = try await c.call(.post, "/internal/v1/queues/dl/nack", "{\"receipt\":\"\(m.receipt)\",\"delay_seconds\":0}")
            }
            _ = try await c.receive("dl", max: 1)
            #expect(try await c.call(.delete, "/internal/v1/queues/dl/dead-letters").json["purged"] as? Int == 1)
        }
    }

    @Test func idempotentSendOverHTTPReturnsTheSameID() async throws {
        try await BrokerHarness.withBroker { _, c in
            _ = try await c.createQueue("idem")
            let a = try await c.call(.post, "/internal/v1/queues/idem/messages", "{\"body\":1,\"idempotency_key\":\"abc\"}")
            let b = try await c.call(.post, "/internal/v1/queues/idem/messages", "{\"body\":2,\"idempotency_key\":\"abc\"}")
            #expect(a.status == 201 && b.status == 200)
            #expect(a.json["id"] as? Int == b.json["id"] as? Int && b.text.contains("\"duplicate\":true"))
            let batch = try await c.call(
                .post, "/internal/v1/queues/idem/messages/batch",
                "{\"messages\":[{\"body\":3,\"idempotency_key\":\"abc\"},{\"body\":4,\"tenant\":\"t\",\"priority\":5}]}")
            let results = batch.json["results"] as? [any Sendable] ?? []
            #expect(results.count == 2)
            #expect((results.first as? [String: any Sendable])?["id"] as? Int == a.json["id"] as? Int)
        }
    }

    @Test func fairnessOverHTTPWithTwoTenantsInNumbers() async throws {
        try await BrokerHarness.withBroker { _, c in
            _ = try await c.createQueue("fair")
            for _ in 0..<50 {
                let items = (0..<10).map { _ in "{\"body\":0,\"tenant\":\"burst\"}" }.joined(separator: ",")
                _ = try await c.call(.post, "/internal/v1/queues/fair/messages/batch", "{\"messages\":[\(items)]}")
            }
            for _ in 0..<2 {
                let items = (0..<10).map { _ in "{\"body\":0,\"tenant\":\"quiet\"}" }.joined(separator: ",")
                _ = try await c.call(.post, "/internal/v1/queues/fair/messages/batch", "{\"messages\":[\(items)]}")
            }
            var counts: [String: Int] = [:]
            for _ in 0..<4 { for m in try await c.receive("fair", max: 10) { counts[m.tenant, default: 0] += 1 } }
            // 500 "burst" messages were queued before 20 "quiet" ones; the first 40 receives split 20/20.
            #expect(counts["quiet"] == 20 && counts["burst"] == 20, "\(counts)")
        }
    }

    @Test func badInputGetsClearErrors() async throws {
        try await BrokerHarness.withBroker { _, c in
            _ = try await c.createQueue("b", "{\"max_message_bytes\":100}")
            var r = try await c.call(.post, "/internal/v1/queues/none/messages", "{\"body\":1}")
            #expect(r.status == 404 && r.errorCode == "queue_not_found")
            r = try await c.call(.post, "/internal/v1/queues/b/messages", "{\"body\":\"\(String(repeating: "x", count: 200))\"}")
            #expect(r.status == 413 && r.errorCode == "message_too_large")
            r = try await c.call(.post, "/internal/v1/queues/b/messages", "{\"body\":")
            #expect(r.status == 400 && r.errorCode == "invalid_json")
            r = try await c.call(.post, "/internal/v1/queues/b/messages", "{\"bdy\":1}")
            #expect(r.status == 422 && r.errorCode == "unknown_field" && r.text.contains("bdy"))
            r = try await c.call(.post, "/internal/v1/queues/b/messages", "{}")
            #expect(r.status == 422 && r.errorCode == "missing_field" && r.text.contains("body"))
            r = try await c.ack("b", "not-a-receipt")
            #expect(r.status == 400 && r.errorCode == "invalid_receipt")
            r = try await c.createQueue("c", "{\"visibility_timeout_seconds\":99999}")
            #expect(r.status == 422 && r.errorCode == "setting_out_of_range" && r.text.contains("visibility_timeout_seconds"))
            r = try await c.createQueue("c", "{\"max_receives\":\"five\"}")
            #expect(r.status == 422 && r.errorCode == "invalid_field" && r.text.contains("max_receives"))
            r = try await c.call(.post, "/internal/v1/queues/b/receive", "{\"max_messages\":11}")
            #expect(r.status == 422 && r.errorCode == "setting_out_of_range")
            r = try await c.call(.post, "/internal/v1/queues/b/receive", "{\"wait_seconds\":21}")
            #expect(r.status == 422 && r.errorCode == "setting_out_of_range")
            // Without the internal token: 401.
            let raw = try RawConnection(port: Int(c.base.split(separator: ":").last.flatMap { Int($0) } ?? 0))
            try raw.send("GET /internal/v1/queues HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try raw.readResponse(timeout: .seconds(2)).status == 401)
        }
    }

    @Test func statsAppearAsJSONAndOnMetrics() async throws {
        try await BrokerHarness.withBroker { host, c in
            _ = try await c.createQueue("m")
            _ = try await c.send("m", "{\"body\":1}")
            _ = try await c.send("m", "{\"body\":2,\"delay_seconds\":60}")
            _ = try await c.receive("m", max: 1)
            let all = try await c.call(.get, "/internal/v1/stats")
            let q = (all.json["queues"] as? [any Sendable])?.first as? [String: any Sendable]
            #expect(q?["in_flight"] as? Int == 1 && q?["delayed"] as? Int == 1 && q?["sent_total"] as? Int == 2)
            let metrics = try await c.call(.get, "/metrics")
            #expect(metrics.text.contains("queue_messages_in_flight{queue=\"m\"} 1"))
            #expect(metrics.text.contains("queue_messages_delayed{queue=\"m\"} 1"))
            #expect(metrics.text.contains("queue_messages_sent_total{queue=\"m\"} 2"))
            _ = host
        }
    }

    @Test func streamsAppendReadAndLongPollResume() async throws {
        try await BrokerHarness.withBroker { _, c in
            let a = try await c.call(.post, "/internal/v1/streams/job-9/events", "{\"events\":[{\"type\":\"token\",\"data\":{\"t\":\"he\"}},{\"data\":\"llo\"}]}")
            #expect(a.status == 201 && (a.json["ids"] as? [any Sendable])?.compactMap { $0 as? Int } == [1, 2])
            let r = try await c.call(.get, "/internal/v1/streams/job-9/events", headers: [("Last-Event-ID", "1")])
            let events = r.json["events"] as? [any Sendable] ?? []
            #expect(events.count == 1 && (events.first as? [String: any Sendable])?["data"] as? String == "llo")
            let waiter = Task { try await c.call(.get, "/internal/v1/streams/job-9/events?after=2&wait_seconds=10") }
            try await Task.sleep(for: .milliseconds(200))
            _ = try await c.call(.post, "/internal/v1/streams/job-9/events", "{\"type\":\"done\",\"data\":null}")
            let woke = try await waiter.value
            #expect(((woke.json["events"] as? [any Sendable])?.first as? [String: any Sendable])?["id"] as? Int == 3)
            #expect(try await c.call(.get, "/internal/v1/streams/job-9/events?after=x").errorCode == "invalid_parameter")
        }
    }
}

extension BrokerHTTPTests {
    @Test func aHandledDeadLetterIsDeletedOnItsOwn() async throws {
        try await BrokerHarness.withBroker { _, c in
            #expect(try await c.call(.put, "/internal/v1/queues/d", "{\"max_receives\":1}").status == 201)
            let first = try await c.send("d", "{\"body\":1}")
            let second = try await c.send("d", "{\"body\":2}")
            for m in try await c.receive("d", max: 2, wait: 0, visibility: 30) {
                #expect(try await c.call(.post, "/internal/v1/queues/d/nack", "{\"receipt\":\"\(m.receipt)\",\"delay_seconds\":0}").status == 200)
            }
            #expect(try await c.receive("d", max: 2, wait: 0, visibility: 30).isEmpty)  // both dead now
            #expect(try await c.call(.delete, "/internal/v1/queues/d/dead-letters/\(first)").status == 204)
            #expect(try await c.call(.delete, "/internal/v1/queues/d/dead-letters/\(first)").errorCode == "message_not_found")
            #expect(try await c.call(.delete, "/internal/v1/queues/d/dead-letters/x").errorCode == "invalid_parameter")
            let left = try await c.call(.get, "/internal/v1/queues/d/dead-letters")
            let ids = (left.json["messages"] as? [any Sendable] ?? []).compactMap { ($0 as? [String: any Sendable])?["id"] as? Int }
            #expect(ids == [second])
        }
    }
}

/// Shared bookkeeping of the concurrent consumers.
final class LeaseTracker: Sendable {
    let live = Mutex<Set<Int>>([])
    let doubleLeases = Atomic<Int>(0)
    let acked = Mutex<[Int: Int]>([:])
}
