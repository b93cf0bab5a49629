import Synchronization

/// The broker: owns the queue engine and the stream log, persists their changes through the
/// group-commit store, and parks long-polling receivers and stream readers.
///
/// Long polls never spin: a waiter is a continuation keyed by queue or stream, resumed by the
/// send (or nack, release, redrive, append) that makes something available, by the next
/// timer of its queue (delay end, lease expiry), by its deadline, or by task cancellation
/// (the HTTP server cancels a handler whose client disconnected).
public actor Broker {
    var engine = QueueEngine()
    var streams: StreamLog
    /// Persistence; nil runs the broker in memory (unit tests).
    let store: MessageStore?
    /// Milliseconds since the epoch; injectable for tests.
    let clock: @Sendable () -> Int64
    /// Parked long polls per key ("q:" queue, "s:" stream), oldest first, with how many
    /// messages each wants (so a send wakes only as many receivers as it can feed).
    private var waiters: [String: [Waiter]] = [:]
    private var draining = false
    private struct Waiter {
        var id: UInt64
        var wants: Int
        var continuation: CheckedContinuation<Void, Never>
    }
    private var nextWaiter: UInt64 = 0
    /// Latest stats, for `/metrics` callbacks (which cannot await the actor).
    nonisolated let snapshot = Mutex<[QueueStats]>([])
    /// Called with (queue, sent, received, acked) after each change, for counters.
    let onCounts: @Sendable (String, Int, Int, Int) -> Void

    /// Opens the broker on `store` (loading everything it holds).
    public init(
        store: MessageStore?, streamMaxAge: Int64 = 86_400_000, streamMaxLength: Int = 10_000,
        clock: @escaping @Sendable () -> Int64 = Broker.wallClock,
        onCounts: @escaping @Sendable (String, Int, Int, Int) -> Void = { _, _, _, _ in }
    ) throws {
        self.store = store
        self.clock = clock
        self.onCounts = onCounts
        var engine = QueueEngine()
        var streams = StreamLog(maxAge: streamMaxAge, maxLength: streamMaxLength)
        try store?.load(into: &engine, streams: &streams)
        self.engine = engine
        self.streams = streams
    }

    /// Wall-clock milliseconds since the epoch.
    public static let wallClock: @Sendable () -> Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Hands pending changes to the store; returns the sequence to wait for.
    private func flush() -> UInt64 {
        var ops = engine.outbox
        ops.append(contentsOf: streams.outbox)
        engine.outbox.removeAll(keepingCapacity: true)
        streams.outbox.removeAll(keepingCapacity: true)
        return store?.enqueue(ops) ?? 0
    }

    private func commit(_ seq: UInt64) async throws {
        if let store { try await store.waitCommitted(seq) }
    }

    // MARK: Queues

    /// Creates or updates a queue; true when created. Answered after commit.
    public func putQueue(_ name: String, settings: QueueSettings) async throws -> Bool {
        let created = try engine.createQueue(name, settings: settings, now: clock())
        try await commit(flush())
        return created
    }

    /// Settings of a queue.
    public func settings(_ name: String) throws -> QueueSettings { try engine.settings(of: name) }

    /// All queue names.
    public func queueNames() -> [String] { engine.queueNames }

    /// Deletes a queue; its waiting receivers return empty.
    public func deleteQueue(_ name: String) async throws {
        try engine.deleteQueue(name)
        wakeAll("q:" + name)
        try await commit(flush())
    }

    /// Sends; returns after the messages are committed.
    public func send(_ name: String, _ messages: [OutgoingMessage]) async throws -> [SendResult] {
        let results = try engine.send(name, messages, now: clock())
        let seq = flush()
        let fresh = results.filter { !$0.duplicate }.count
        if fresh > 0 {
            onCounts(name, fresh, 0, 0)
            let defaultDelay = (try? engine.settings(of: name))?.defaultDelaySeconds ?? 0
            let delayed = messages.contains { ($0.delaySeconds ?? defaultDelay) > 0 }
            // A delayed message adds a timer earlier than parked receivers may be waiting
            // for: they re-arm. Otherwise wake only receivers enough to take what arrived.
            if delayed { wakeAll("q:" + name) } else { wake("q:" + name, messages: fresh) }
        }
        try await commit(seq)
        return results
    }

    /// Receives up to `max`, waiting up to `waitSeconds` for the first message.
    public func receive(_ name: String, max: Int, visibilitySeconds: Double?, waitSeconds: Double) async throws -> [Delivery] {
        try QueueSettings.check("wait_seconds", waitSeconds, 0...20)
        let deadline = clock() + waitSeconds.milliseconds
        while true {
            let now = clock()
            let got = try engine.receive(name, max: max, visibilitySeconds: visibilitySeconds, now: now)
            // Lease bookkeeping is persisted without waiting: losing it in a crash only means
            // an earlier redelivery (at-least-once), never a lost message.
            _ = flush()
            if !got.isEmpty {
                onCounts(name, 0, got.count, 0)
                // More left than this receiver could take: pass the wake-up on.
                if engine.hasReady(name, now: now) { wake("q:" + name, messages: 1) }
                return got
            }
            if now >= deadline || Task.isCancelled || draining {
                if engine.hasReady(name, now: now) { wake("q:" + name, messages: 1) }
                return []
            }
            let wakeAt = Swift.min(deadline, engine.nextDue(name) ?? deadline)
            await park("q:" + name, wants: max, until: wakeAt)
            // The queue may have been deleted meanwhile: the next receive throws queue_not_found.
        }
    }

    /// Acks one receipt; answered after commit.
    public func ack(_ name: String, receipt: String) async throws {
        try engine.ack(name, receipt: receipt, now: clock())
        onCounts(name, 0, 0, 1)
        try await commit(flush())
    }

    /// Acks several receipts; returns an error (or nil) per receipt. One commit for all.
    public func ack(_ name: String, receipts: [String]) async throws -> [BrokerError?] {
        let now = clock()
        var out: [BrokerError?] = []
        for r in receipts {
            do throws(BrokerError) {
                try engine.ack(name, receipt: r, now: now)
                out.append(nil)
            } catch {
                if error.code == "queue_not_found" { throw error }
                out.append(error)
            }
        }
        onCounts(name, 0, 0, out.filter { $0 == nil }.count)
        try await commit(flush())
        return out
    }

    /// Extends a lease; returns the new expiry (ms).
    public func extend(_ name: String, receipt: String, seconds: Double) async throws -> Int64 {
        let until = try engine.extend(name, receipt: receipt, seconds: seconds, now: clock())
        try await commit(flush())
        return until
    }

    /// Nacks a lease (backoff when `delaySeconds` is nil); returns when it becomes visible (ms).
    public func nack(_ name: String, receipt: String, delaySeconds: Double?) async throws -> Int64 {
        let at = try engine.nack(name, receipt: receipt, delaySeconds: delaySeconds, now: clock())
        wakeAll("q:" + name)  // visible now, or parked receivers re-arm their timer for `at`
        try await commit(flush())
        return at
    }

    /// Releases a lease: visible at once.
    public func release(_ name: String, receipt: String) async throws {
        try engine.release(name, receipt: receipt, now: clock())
        wake("q:" + name, messages: 1)
        try await commit(flush())
    }

    /// Dead letters, oldest first.
    public func deadLetters(_ name: String, limit: Int) throws -> [QueueMessage] { try engine.deadLetters(name, limit: limit) }

    /// Redrives dead letters to their queue.
    public func redrive(_ name: String, limit: Int) async throws -> Int {
        let n = try engine.redrive(name, limit: limit, now: clock())
        if n > 0 { wake("q:" + name, messages: n) }
        try await commit(flush())
        return n
    }

    /// Deletes all dead letters of a queue.
    public func purgeDeadLetters(_ name: String) async throws -> Int {
        let n = try engine.purgeDeadLetters(name)
        try await commit(flush())
        return n
    }

    /// Deletes one dead letter; false when there is no such dead letter.
    public func deleteDeadLetter(_ name: String, id: Int64) async throws -> Bool {
        let deleted = try engine.deleteDeadLetter(name, id: id)
        if deleted { try await commit(flush()) }
        return deleted
    }

    /// One queue's stats.
    public func stats(_ name: String) throws -> QueueStats { try engine.stats(name, now: clock()) }

    /// Every queue's stats; also refreshes the snapshot `/metrics` reads.
    public func allStats() -> [QueueStats] {
        let now = clock()
        let all = engine.queueNames.compactMap { try? engine.stats($0, now: now) }
        snapshot.withLock { $0 = all }
        return all
    }

    /// Retention and dedup expiry for queues and streams.
    public func sweep() {
        let now = clock()
        engine.sweep(now: now)
        streams.sweep(now: now)
        _ = flush()
    }

    // MARK: Streams

    /// Appends events; returns their ids after commit.
    public func append(_ key: String, _ items: [(type: String?, data: [UInt8])]) async throws -> [Int64] {
        let ids = try streams.append(key, items, now: clock())
        let seq = flush()
        wakeAll("s:" + key)
        try await commit(seq)
        return ids
    }

    /// Events after `after`, waiting up to `waitSeconds` for the first when there is none.
    /// With `types`, only events of those types are returned and only they end the wait, so a
    /// reader watching for one rare event (a job's cancel request) is not woken by every other
    /// append; `lastID` is then the id through which the stream was scanned.
    public func read(
        _ key: String, after: Int64, limit: Int, waitSeconds: Double, types: Set<String>? = nil
    ) async throws -> (events: [StreamEvent], lastID: Int64) {
        try QueueName.validate(key, field: "stream key")
        try QueueSettings.check("wait_seconds", waitSeconds, 0...20)
        let deadline = clock() + waitSeconds.milliseconds
        var after = after
        while true {
            let page: (events: [StreamEvent], lastID: Int64)
            if let types {
                let r = streams.read(key, after: after, limit: limit, types: types)
                page = (r.events, r.scannedThrough)
                after = r.scannedThrough
            } else {
                page = (streams.read(key, after: after, limit: limit), streams.lastID(key))
            }
            if !page.events.isEmpty || clock() >= deadline || Task.isCancelled || draining { return page }
            await park("s:" + key, wants: 1, until: deadline)
        }
    }

    /// Deletes a stream; false when it did not exist.
    public func deleteStream(_ key: String) async throws -> Bool {
        let existed = streams.delete(key)
        try await commit(flush())
        return existed
    }

    // MARK: Waiters

    /// Suspends until woken by `wake`/`wakeAll`, the time `until` (ms), or cancellation.
    private func park(_ key: String, wants: Int, until: Int64) async {
        nextWaiter += 1
        let id = nextWaiter
        let delay = Swift.max(1, until - clock())
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(delay))
            await self?.resume(key, id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                // Checked here, on the actor, so a cancellation that raced ahead is not missed.
                if Task.isCancelled { c.resume() } else { waiters[key, default: []].append(Waiter(id: id, wants: wants, continuation: c)) }
            }
        } onCancel: {
            Task { await self.resume(key, id) }
        }
        timer.cancel()
    }

    private func resume(_ key: String, _ id: UInt64) {
        guard let i = waiters[key]?.firstIndex(where: { $0.id == id }), let w = waiters[key]?.remove(at: i) else { return }
        if waiters[key]?.isEmpty == true { waiters[key] = nil }
        w.continuation.resume()
    }

    /// Wakes the oldest waiters of `key` until together they want at least `messages`
    /// (a receiver that finds nothing parks again; one that leaves with messages still ready
    /// passes the wake on, so nothing is stranded).
    private func wake(_ key: String, messages: Int) {
        var left = messages
        while left > 0, var list = waiters[key], !list.isEmpty {
            let w = list.removeFirst()
            waiters[key] = list.isEmpty ? nil : list
            left -= w.wants
            w.continuation.resume()
        }
    }

    private func wakeAll(_ key: String) {
        guard let all = waiters.removeValue(forKey: key) else { return }
        for w in all { w.continuation.resume() }
    }

    /// Shutdown has begun: every long poll answers now with what it has (usually nothing) and
    /// new ones do not wait, so the server's drain is not held up by consumers' long polls.
    public func endLongPolls() {
        draining = true
        let all = waiters
        waiters = [:]
        for w in all.values.joined() { w.continuation.resume() }
    }

    /// Number of parked waiters (tests check long polls clean up after disconnects).
    public var parkedCount: Int { waiters.values.reduce(0) { $0 + $1.count } }
}

#if canImport(Glibc)
import Glibc
#endif
