/// The queue logic as a value type: every method takes the current time (milliseconds since
/// the epoch), so tests drive it with a fake clock. Each mutation appends the changes to
/// persist to `outbox`; the owner drains it into the store.
///
/// ```swift
/// var engine = QueueEngine()
/// try engine.createQueue("jobs", settings: QueueSettings(), now: 0)
/// _ = try engine.send("jobs", [OutgoingMessage(body: Array("{}".utf8))], now: 0)
/// let got = try engine.receive("jobs", max: 1, visibilitySeconds: nil, now: 0)
/// try engine.ack("jobs", receipt: got[0].receipt, now: 1)
/// ```
public struct QueueEngine: Sendable {
    var queues: [String: QueueState] = [:]
    /// The last message id handed out.
    public private(set) var lastID: Int64 = 0
    /// Changes to persist, in order.
    public var outbox: [StoreOperation] = []
    /// How long an idempotency key is remembered (5 minutes, as SQS FIFO deduplication).
    public static let dedupWindow: Int64 = 5 * 60 * 1000

    /// An empty engine.
    public init() {}

    // MARK: Queues

    /// Names of all queues, sorted.
    public var queueNames: [String] { queues.keys.sorted() }

    /// A queue's settings, or `queue_not_found`.
    public func settings(of name: String) throws(BrokerError) -> QueueSettings {
        guard let q = queues[name] else { throw .queueNotFound(name) }
        return q.settings
    }

    /// Creates a queue, or updates the settings of an existing one. Returns true when created.
    @discardableResult
    public mutating func createQueue(_ name: String, settings: QueueSettings, now: Int64) throws(BrokerError) -> Bool {
        try QueueName.validate(name)
        try settings.validate()
        if let dlq = settings.deadLetterQueue {
            guard dlq != name else { throw .invalid("dead_letter_queue", "must name a different queue") }
            guard queues[dlq] != nil else { throw .queueNotFound(dlq) }
        }
        let created = queues[name] == nil
        if created { queues[name] = QueueState(name: name, settings: settings) } else { queues[name]?.settings = settings }
        outbox.append(.upsertQueue(name: name, settings: Self.encode(settings)))
        return created
    }

    /// Deletes a queue and all its messages.
    public mutating func deleteQueue(_ name: String) throws(BrokerError) {
        guard queues.removeValue(forKey: name) != nil else { throw .queueNotFound(name) }
        outbox.append(.deleteQueue(name: name))
    }

    static func encode(_ settings: QueueSettings) -> [UInt8] {
        (try? JSONCoding.encoder.encode(settings)).map { Array($0) } ?? Array("{}".utf8)
    }

    // MARK: Send

    /// Sends messages (all or nothing for validation). A known idempotency key returns the
    /// earlier id with `duplicate: true` and enqueues nothing.
    public mutating func send(_ name: String, _ messages: [OutgoingMessage], now: Int64) throws(BrokerError) -> [SendResult] {
        // Taken out of the dictionary (not copied) so mutating it does not copy every message.
        guard var q = queues.removeValue(forKey: name) else { throw .queueNotFound(name) }
        defer { queues[name] = q }
        for m in messages {
            guard m.body.count <= q.settings.maxMessageBytes else {
                throw BrokerError(413, "message_too_large", "Message body is \(m.body.count) bytes; queue '\(name)' accepts at most \(q.settings.maxMessageBytes).")
            }
            guard (0...9).contains(m.priority) else { throw .outOfRange("priority", "must be 0–9, got \(m.priority)") }
            if let d = m.delaySeconds { try QueueSettings.check("delay_seconds", d, 0...QueueSettings.maxDelaySeconds) }
        }
        var results: [SendResult] = []
        results.reserveCapacity(messages.count)
        for m in messages {
            if let key = m.idempotencyKey, let seen = q.dedup[key], seen.expires > now {
                results.append(SendResult(id: seen.id, duplicate: true))
                continue
            }
            lastID += 1
            let delay = (m.delaySeconds ?? q.settings.defaultDelaySeconds).milliseconds
            let message = QueueMessage(
                id: lastID, queue: name, tenant: m.tenant, priority: m.priority, body: m.body, attributes: m.attributes,
                idempotencyKey: m.idempotencyKey, sentAt: now, visibleAt: now + delay, receiveCount: 0, state: delay > 0 ? .delayed : .ready)
            q.messages[message.id] = message
            if delay > 0 { q.timers.push(.init(due: message.visibleAt, id: message.id)) } else { q.enqueueReady(message) }
            outbox.append(.insertMessage(message))
            if let key = m.idempotencyKey {
                q.dedup[key] = (message.id, now + Self.dedupWindow)
                outbox.append(.insertDedup(queue: name, key: key, id: message.id, expires: now + Self.dedupWindow))
            }
            q.stats.record(now: now, sent: 1)
            results.append(SendResult(id: message.id, duplicate: false))
        }
        return results
    }

    // MARK: Receive

    /// Leases up to `max` ready messages in fair order. Messages that already reached
    /// `max_receives` are dead-lettered instead of delivered.
    public mutating func receive(_ name: String, max: Int, visibilitySeconds: Double?, now: Int64) throws(BrokerError) -> [Delivery] {
        guard (1...10).contains(max) else { throw .outOfRange("max_messages", "must be 1–10, got \(max)") }
        if let v = visibilitySeconds { try QueueSettings.check("visibility_timeout_seconds", v, 0...QueueSettings.maxVisibilitySeconds) }
        try promoteDue(name, now: now)
        guard var q = queues.removeValue(forKey: name) else { throw .queueNotFound(name) }
        let lease = (visibilitySeconds ?? q.settings.visibilityTimeoutSeconds).milliseconds
        var out: [Delivery] = []
        var dead: [QueueMessage] = []
        out.reserveCapacity(max)
        while out.count < max, let id = q.popReady(), var m = q.messages[id] {
            if m.receiveCount >= q.settings.maxReceives {
                dead.append(m)
                continue
            }
            m.receiveCount += 1
            m.firstReceivedAt = m.firstReceivedAt ?? now
            m.lastReceivedAt = now
            m.state = .inflight
            m.visibleAt = now + lease
            let token = UInt64.random(in: 1...UInt64.max)
            m.leaseToken = token
            q.messages[id] = m
            q.timers.push(.init(due: m.visibleAt, id: id))
            outbox.append(.updateDelivery(id: id, state: .inflight, visibleAt: m.visibleAt, receiveCount: m.receiveCount, firstReceivedAt: m.firstReceivedAt, lastReceivedAt: now))
            out.append(Delivery(message: m, receipt: "\(id).\(String(token, radix: 16))"))
        }
        q.stats.record(now: now, received: Int64(out.count))
        queues[name] = q
        for m in dead { deadLetter(m, reason: "max_receives_exceeded", now: now) }
        return out
    }

    /// Moves a message to the dead letters (or to the configured dead-letter queue).
    mutating func deadLetter(_ message: QueueMessage, reason: String, now: Int64) {
        // Mutated in place through the dictionary's subscript: copying a QueueState out and
        // back would copy all of its messages.
        guard let settings = queues[message.queue]?.settings else { return }
        queues[message.queue]?.stats.deadLettered += 1
        if let target = settings.deadLetterQueue, queues[target] != nil {
            queues[message.queue]?.messages[message.id] = nil
            var m = message
            m.queue = target
            m.sourceQueue = message.queue
            m.state = .ready
            m.receiveCount = 0
            m.leaseToken = nil
            m.visibleAt = now
            m.deadAt = now
            m.deadReason = reason
            queues[target]?.messages[m.id] = m
            queues[target]?.enqueueReady(m)
            queues[target]?.stats.record(now: now, sent: 1)
            outbox.append(.moveMessage(id: m.id, queue: target, state: .ready, visibleAt: now, receiveCount: 0, sourceQueue: message.queue, deadAt: now, deadReason: reason))
            return
        }
        var m = message
        m.state = .dead
        m.leaseToken = nil
        m.deadAt = now
        m.deadReason = reason
        queues[message.queue]?.messages[m.id] = m
        outbox.append(.deadLetter(id: m.id, deadAt: now, reason: reason))
    }

    /// Applies due timers: delays that ended and leases that expired become ready.
    mutating func promoteDue(_ name: String, now: Int64) throws(BrokerError) {
        guard var q = queues.removeValue(forKey: name) else { throw .queueNotFound(name) }
        defer { queues[name] = q }
        while let top = q.timers.first, top.due <= now {
            _ = q.timers.pop()
            guard var m = q.messages[top.id], m.visibleAt == top.due, m.state == .delayed || m.state == .inflight else { continue }
            m.state = .ready
            m.leaseToken = nil
            q.messages[m.id] = m
            q.enqueueReady(m)
        }
    }

    /// Earliest time a delayed or leased message of `name` may become visible.
    public func nextDue(_ name: String) -> Int64? { queues[name]?.nextDue }

    /// Whether `name` has a message a receive could take right now.
    public func hasReady(_ name: String, now: Int64) -> Bool {
        guard let q = queues[name] else { return false }
        if let due = q.nextDue, due <= now { return true }
        return !q.tenantRing.isEmpty
    }

    // MARK: Leases

    /// Checks a receipt and returns the leased message; stale or unknown receipts throw `invalid_receipt`.
    func leased(_ name: String, _ receipt: String, now: Int64) throws(BrokerError) -> QueueMessage {
        guard let q = queues[name] else { throw .queueNotFound(name) }
        let parts = receipt.split(separator: ".", omittingEmptySubsequences: false)
        guard receipt.utf8.count <= 64, parts.count == 2, let id = Int64(parts[0]), let token = UInt64(parts[1], radix: 16) else {
            throw .invalidReceipt("Receipt '\(receipt.prefix(64))' is malformed.")
        }
        guard let m = q.messages[id], m.state == .inflight, m.leaseToken == token else {
            throw .invalidReceipt("Receipt is stale or unknown: the lease expired, the message was acked, or it was received again.")
        }
        guard m.visibleAt > now else { throw .invalidReceipt("Receipt is stale: the lease expired.") }
        return m
    }

    /// Deletes a leased message.
    public mutating func ack(_ name: String, receipt: String, now: Int64) throws(BrokerError) {
        let m = try leased(name, receipt, now: now)
        queues[name]?.messages[m.id] = nil
        queues[name]?.stats.record(now: now, acked: 1)
        outbox.append(.deleteMessage(id: m.id))
    }

    /// Extends a lease to `seconds` from now (heartbeat).
    public mutating func extend(_ name: String, receipt: String, seconds: Double, now: Int64) throws(BrokerError) -> Int64 {
        try QueueSettings.check("visibility_timeout_seconds", seconds, 0...QueueSettings.maxVisibilitySeconds)
        var m = try leased(name, receipt, now: now)
        m.visibleAt = now + seconds.milliseconds
        queues[name]?.messages[m.id] = m
        queues[name]?.timers.push(.init(due: m.visibleAt, id: m.id))
        outbox.append(.updateDelivery(id: m.id, state: .inflight, visibleAt: m.visibleAt, receiveCount: m.receiveCount, firstReceivedAt: m.firstReceivedAt, lastReceivedAt: m.lastReceivedAt))
        return m.visibleAt
    }

    /// Ends a lease: the message is visible again after `delay` seconds, or, when nil, after
    /// the exponential backoff `base × 2^(receives−1)` capped at the queue's maximum.
    /// Returns the time it becomes visible.
    @discardableResult
    public mutating func nack(_ name: String, receipt: String, delaySeconds: Double?, now: Int64) throws(BrokerError) -> Int64 {
        var m = try leased(name, receipt, now: now)
        guard let settings = queues[name]?.settings else { throw .queueNotFound(name) }
        let delay: Int64
        if let d = delaySeconds {
            try QueueSettings.check("delay_seconds", d, 0...QueueSettings.maxVisibilitySeconds)
            delay = d.milliseconds
        } else {
            let exponent = Double(min(30, max(0, m.receiveCount - 1)))
            delay = min(settings.nackBackoffMaxSeconds, settings.nackBackoffBaseSeconds * pow2(exponent)).milliseconds
        }
        m.leaseToken = nil
        m.visibleAt = now + delay
        if delay > 0 {
            m.state = .delayed
            queues[name]?.messages[m.id] = m
            queues[name]?.timers.push(.init(due: m.visibleAt, id: m.id))
        } else {
            m.state = .ready
            queues[name]?.messages[m.id] = m
            queues[name]?.enqueueReady(m)
        }
        outbox.append(.updateDelivery(id: m.id, state: m.state, visibleAt: m.visibleAt, receiveCount: m.receiveCount, firstReceivedAt: m.firstReceivedAt, lastReceivedAt: m.lastReceivedAt))
        return m.visibleAt
    }

    /// Ends a lease at once: visible now, receive count kept.
    public mutating func release(_ name: String, receipt: String, now: Int64) throws(BrokerError) {
        _ = try nack(name, receipt: receipt, delaySeconds: 0, now: now)
    }

    private func pow2(_ e: Double) -> Double {
        var r = 1.0
        for _ in 0..<Int(e) { r *= 2 }
        return r
    }

    // MARK: Dead letters

    /// Dead letters of `name`, oldest first, at most `limit`.
    public func deadLetters(_ name: String, limit: Int) throws(BrokerError) -> [QueueMessage] {
        guard let q = queues[name] else { throw .queueNotFound(name) }
        return Array(q.messages.values.filter { $0.state == .dead }.sorted { ($0.deadAt ?? 0, $0.id) < ($1.deadAt ?? 0, $1.id) }.prefix(limit))
    }

    /// Moves up to `limit` dead letters back to the queue as fresh messages (receive count 0).
    public mutating func redrive(_ name: String, limit: Int, now: Int64) throws(BrokerError) -> Int {
        let dead = try deadLetters(name, limit: limit)
        guard var q = queues.removeValue(forKey: name) else { throw .queueNotFound(name) }
        defer { queues[name] = q }
        for var m in dead {
            m.state = .ready
            m.receiveCount = 0
            m.visibleAt = now
            m.deadAt = nil
            m.deadReason = nil
            q.messages[m.id] = m
            q.enqueueReady(m)
            outbox.append(.moveMessage(id: m.id, queue: name, state: .ready, visibleAt: now, receiveCount: 0, sourceQueue: m.sourceQueue, deadAt: nil, deadReason: nil))
        }
        return dead.count
    }

    /// Deletes every dead letter of `name`; returns how many.
    public mutating func purgeDeadLetters(_ name: String) throws(BrokerError) -> Int {
        guard var q = queues.removeValue(forKey: name) else { throw .queueNotFound(name) }
        defer { queues[name] = q }
        let ids = q.messages.values.filter { $0.state == .dead }.map(\.id)
        for id in ids {
            q.messages[id] = nil
            outbox.append(.deleteMessage(id: id))
        }
        return ids.count
    }

    /// Deletes one dead letter (a consumer of dead letters removes each it has handled, so a
    /// letter that arrives meanwhile is never lost to a purge). False when `id` is not a dead
    /// letter of `name`.
    public mutating func deleteDeadLetter(_ name: String, id: Int64) throws(BrokerError) -> Bool {
        guard var q = queues.removeValue(forKey: name) else { throw .queueNotFound(name) }
        defer { queues[name] = q }
        guard q.messages[id]?.state == .dead else { return false }
        q.messages[id] = nil
        outbox.append(.deleteMessage(id: id))
        return true
    }

    // MARK: Housekeeping

    /// Drops messages past retention and expired idempotency keys. Returns messages dropped.
    @discardableResult
    public mutating func sweep(now: Int64) -> Int {
        var dropped = 0
        for name in Array(queues.keys) {
            guard var q = queues.removeValue(forKey: name) else { continue }
            let cutoff = now - q.settings.retentionSeconds.milliseconds
            let old = q.messages.values.filter { $0.sentAt < cutoff }.map(\.id)
            for id in old {
                q.messages[id] = nil
                outbox.append(.deleteMessage(id: id))
            }
            dropped += old.count
            q.dedup = q.dedup.filter { $0.value.expires > now }
            queues[name] = q
        }
        outbox.append(.purgeDedup(before: now))
        return dropped
    }

    // MARK: Stats

    /// A queue's counts, ages and rates.
    public func stats(_ name: String, now: Int64) throws(BrokerError) -> QueueStats {
        guard let q = queues[name] else { throw .queueNotFound(name) }
        var s = QueueStats(queue: name)
        var oldest: Int64?
        for m in q.messages.values {
            switch m.state {
            case .ready: s.visible += 1
            case .inflight: if m.visibleAt > now { s.inFlight += 1 } else { s.visible += 1 }
            case .delayed: if m.visibleAt > now { s.delayed += 1 } else { s.visible += 1 }
            case .dead: s.deadLettered += 1
            }
            if m.state != .dead { oldest = min(oldest ?? m.sentAt, m.sentAt) }
        }
        s.oldestAgeSeconds = oldest.map { Double(max(0, now - $0)) / 1000 } ?? 0
        s.sentTotal = q.stats.sent
        s.receivedTotal = q.stats.received
        s.ackedTotal = q.stats.acked
        s.deadLetteredTotal = q.stats.deadLettered
        let r = q.stats.rates(now: now)
        s.sendRate = r.sent
        s.receiveRate = r.received
        s.ackRate = r.acked
        return s
    }

    // MARK: Recovery

    /// Restores a queue read from storage (no outbox entries).
    public mutating func restoreQueue(_ name: String, settings: QueueSettings) {
        queues[name] = QueueState(name: name, settings: settings)
    }

    /// Restores a message read from storage; leases survive as leases without a valid receipt,
    /// so they become visible when they expire (at-least-once).
    public mutating func restoreMessage(_ message: QueueMessage) {
        lastID = max(lastID, message.id)
        guard var q = queues.removeValue(forKey: message.queue) else { return }
        defer { queues[message.queue] = q }
        var m = message
        m.leaseToken = nil
        q.messages[m.id] = m
        switch m.state {
        case .ready: q.enqueueReady(m)
        case .delayed, .inflight: q.timers.push(.init(due: m.visibleAt, id: m.id))
        case .dead: break
        }
    }

    /// Restores a remembered idempotency key.
    public mutating func restoreDedup(queue: String, key: String, id: Int64, expires: Int64) {
        queues[queue]?.dedup[key] = (id, expires)
    }

    /// Raises the id counter (ids of deleted messages are never reused).
    public mutating func restoreLastID(_ id: Int64) { lastID = max(lastID, id) }
}
