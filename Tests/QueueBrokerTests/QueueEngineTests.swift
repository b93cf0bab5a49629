import Testing
@testable import QueueBroker

/// The queue logic with a fake clock: no sockets, no sleeping.
@Suite("Queue engine")
struct QueueEngineTests {
    static func body(_ i: Int) -> OutgoingMessage { OutgoingMessage(body: Array("{\"n\":\(i)}".utf8)) }

    static func engine(_ settings: QueueSettings = QueueSettings()) throws -> QueueEngine {
        var e = QueueEngine()
        try e.createQueue("q", settings: settings, now: 0)
        return e
    }

    @Test func leaseExpiryRedeliversAndInvalidatesTheOldReceipt() throws {
        var e = try Self.engine()
        _ = try e.send("q", [Self.body(1)], now: 0)
        let first = try e.receive("q", max: 1, visibilitySeconds: 10, now: 0)
        #expect(first.count == 1)
        #expect(try e.receive("q", max: 1, visibilitySeconds: 10, now: 9_999).isEmpty)  // still leased
        let again = try e.receive("q", max: 1, visibilitySeconds: 10, now: 10_000)
        #expect(again.map(\.message.id) == first.map(\.message.id))
        #expect(again.first?.message.receiveCount == 2)
        #expect(throws: BrokerError.self) { try e.ack("q", receipt: first[0].receipt, now: 10_001) }
        try e.ack("q", receipt: again[0].receipt, now: 10_001)
        #expect(try e.stats("q", now: 10_001).visible == 0)
    }

    @Test func deadLettersAfterMaxReceivesThenRedrive() throws {
        var settings = QueueSettings()
        settings.maxReceives = 3
        var e = try Self.engine(settings)
        _ = try e.send("q", [Self.body(1)], now: 0)
        var now: Int64 = 0
        for expected in 1...3 {
            let got = try e.receive("q", max: 1, visibilitySeconds: 1, now: now)
            #expect(got.first?.message.receiveCount == expected)
            now += 1_000
        }
        #expect(try e.receive("q", max: 1, visibilitySeconds: 1, now: now).isEmpty)  // 4th attempt dead-letters it
        let dead = try e.deadLetters("q", limit: 10)
        #expect(dead.count == 1)
        #expect(dead.first?.receiveCount == 3)
        #expect(dead.first?.deadReason == "max_receives_exceeded")
        #expect(try e.stats("q", now: now).deadLettered == 1)
        #expect(try e.redrive("q", limit: 10, now: now) == 1)
        let back = try e.receive("q", max: 1, visibilitySeconds: 1, now: now)
        #expect(back.first?.message.receiveCount == 1)
        #expect(try e.deadLetters("q", limit: 10).isEmpty)
    }

    @Test func oneDeadLetterIsDeletedAndNothingElse() throws {
        var settings = QueueSettings()
        settings.maxReceives = 1
        var e = try Self.engine(settings)
        let ids = try e.send("q", [Self.body(1), Self.body(2), Self.body(3)], now: 0).map(\.id)
        _ = try e.receive("q", max: 2, visibilitySeconds: 1, now: 0)
        #expect(try e.receive("q", max: 3, visibilitySeconds: 1, now: 2_000).count == 1)  // the third; 1 and 2 die
        let dead = try e.deadLetters("q", limit: 10).map(\.id)
        #expect(Set(dead) == Set(ids.prefix(2)))
        #expect(try e.deleteDeadLetter("q", id: dead[0]))
        #expect(try !e.deleteDeadLetter("q", id: dead[0]), "already gone")
        #expect(try !e.deleteDeadLetter("q", id: ids[2]), "a live message is not a dead letter")
        #expect(try e.deadLetters("q", limit: 10).map(\.id) == [dead[1]])
        #expect(try e.stats("q", now: 2_000).inFlight == 1)
        #expect(throws: BrokerError.self) { try e.deleteDeadLetter("nope", id: 1) }
    }

    @Test func deadLetterQueueSettingMovesMessagesThere() throws {
        var e = QueueEngine()
        try e.createQueue("dlq", settings: QueueSettings(), now: 0)
        var s = QueueSettings()
        s.maxReceives = 1
        s.deadLetterQueue = "dlq"
        try e.createQueue("q", settings: s, now: 0)
        _ = try e.send("q", [Self.body(7)], now: 0)
        _ = try e.receive("q", max: 1, visibilitySeconds: 1, now: 0)
        #expect(try e.receive("q", max: 1, visibilitySeconds: 1, now: 1_000).isEmpty)
        let moved = try e.receive("dlq", max: 1, visibilitySeconds: 1, now: 1_000)
        #expect(moved.first?.message.sourceQueue == "q")
        #expect(moved.first.map { String(decoding: $0.message.body, as: UTF8.self) } == "{\"n\":7}")
    }

    @Test func idempotencyKeyReturnsTheSameIDWithinFiveMinutes() throws {
        var e = try Self.engine()
        var m = Self.body(1)
        m.idempotencyKey = "k1"
        let a = try e.send("q", [m], now: 0)
        let b = try e.send("q", [m], now: 299_000)
        #expect(a[0].duplicate == false && b[0].duplicate == true && a[0].id == b[0].id)
        #expect(try e.stats("q", now: 1).visible == 1)
        let c = try e.send("q", [m], now: 300_001)  // window over: a new message
        #expect(c[0].duplicate == false && c[0].id != a[0].id)
    }

    @Test func fairnessInterleavesTenantsDespiteABurst() throws {
        var e = try Self.engine()
        // Tenant "big" bursts 10,000 messages first; "small" sends 100 afterwards.
        for chunk in 0..<1000 {
            _ = try e.send("q", (0..<10).map { i in var m = Self.body(chunk * 10 + i); m.tenant = "big"; return m }, now: 0)
        }
        for i in 0..<100 {
            var m = Self.body(i)
            m.tenant = "small"
            _ = try e.send("q", [m], now: 0)
        }
        var counts: [String: Int] = [:]
        for _ in 0..<20 {
            for d in try e.receive("q", max: 10, visibilitySeconds: 60, now: 1) { counts[d.message.tenant, default: 0] += 1 }
        }
        // 200 receives: round-robin gives each tenant 100; FIFO would have given "small" none.
        #expect(counts["small"] == 100)
        #expect(counts["big"] == 100)
    }

    @Test func priorityIsHonouredWithinATenant() throws {
        var e = try Self.engine()
        var low = Self.body(1)
        low.priority = 1
        var high = Self.body(2)
        high.priority = 9
        _ = try e.send("q", [low, high], now: 0)
        let got = try e.receive("q", max: 2, visibilitySeconds: 60, now: 0)
        #expect(got.map(\.message.priority) == [9, 1])
    }

    @Test func nackBacksOffExponentiallyAndDelayHidesMessages() throws {
        var s = QueueSettings()
        s.nackBackoffBaseSeconds = 2
        s.nackBackoffMaxSeconds = 5
        var e = try Self.engine(s)
        var delayed = Self.body(1)
        delayed.delaySeconds = 3
        _ = try e.send("q", [delayed], now: 0)
        #expect(try e.receive("q", max: 1, visibilitySeconds: 60, now: 2_999).isEmpty)
        #expect(try e.stats("q", now: 2_999).delayed == 1)
        var d = try e.receive("q", max: 1, visibilitySeconds: 60, now: 3_000)
        #expect(try e.nack("q", receipt: d[0].receipt, delaySeconds: nil, now: 3_000) == 5_000)  // 2 s × 2^0
        d = try e.receive("q", max: 1, visibilitySeconds: 60, now: 5_000)
        #expect(try e.nack("q", receipt: d[0].receipt, delaySeconds: nil, now: 5_000) == 9_000)  // 2 s × 2^1
        d = try e.receive("q", max: 1, visibilitySeconds: 60, now: 9_000)
        #expect(try e.nack("q", receipt: d[0].receipt, delaySeconds: nil, now: 9_000) == 14_000)  // capped at 5 s
    }

    @Test func extendKeepsTheLeaseAndReleaseMakesItVisible() throws {
        var e = try Self.engine()
        _ = try e.send("q", [Self.body(1)], now: 0)
        let d = try e.receive("q", max: 1, visibilitySeconds: 1, now: 0)
        _ = try e.extend("q", receipt: d[0].receipt, seconds: 10, now: 900)
        #expect(try e.receive("q", max: 1, visibilitySeconds: 1, now: 5_000).isEmpty)
        try e.release("q", receipt: d[0].receipt, now: 5_000)
        #expect(try e.receive("q", max: 1, visibilitySeconds: 1, now: 5_000).count == 1)
    }

    @Test func badInputIsRejectedWithCodes() throws {
        var e = try Self.engine()
        #expect(throws: BrokerError.queueNotFound("nope")) { try e.send("nope", [Self.body(1)], now: 0) }
        var big = QueueSettings()
        big.maxMessageBytes = 8
        try e.createQueue("small", settings: big, now: 0)
        #expect { try e.send("small", [Self.body(123_456)], now: 0) } throws: { ($0 as? BrokerError)?.code == "message_too_large" }
        var bad = QueueSettings()
        bad.visibilityTimeoutSeconds = 13 * 3600
        #expect { try e.createQueue("x", settings: bad, now: 0) } throws: { ($0 as? BrokerError)?.code == "setting_out_of_range" }
        #expect { try e.ack("q", receipt: "garbage", now: 0) } throws: { ($0 as? BrokerError)?.code == "invalid_receipt" }
        #expect { try e.ack("q", receipt: "1.abc", now: 0) } throws: { ($0 as? BrokerError)?.code == "invalid_receipt" }
        #expect { try e.createQueue("bad name!", settings: QueueSettings(), now: 0) } throws: { ($0 as? BrokerError)?.code == "invalid_name" }
    }

    @Test func streamsKeepIncreasingIdsAndApplyRetention() throws {
        var log = StreamLog(maxAge: 10_000, maxLength: 3)
        let ids = try log.append("job-1", (0..<5).map { (type: "t", data: Array("\($0)".utf8)) }, now: 0)
        #expect(ids == [1, 2, 3, 4, 5])
        #expect(log.read("job-1", after: 0, limit: 10).map(\.id) == [3, 4, 5])  // length 3
        #expect(log.read("job-1", after: 4, limit: 10).map(\.id) == [5])
        _ = try log.append("job-1", [(type: nil, data: Array("6".utf8))], now: 20_000)
        #expect(log.read("job-1", after: 0, limit: 10).map(\.id) == [6])  // older than 10 s dropped
    }
}
