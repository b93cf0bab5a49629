import BulkheadObservability
import Foundation
import Shared
import Synchronization

/// Sends every call's `UsageRecord` to queue-broker's `usage-records` queue in batches of up to
/// 10 (`/messages/batch`), flushed every `interval` or as soon as 10 are pending. The buffer is
/// bounded: while queue-broker is unreachable, records wait (retried each interval) and, beyond
/// `capacity`, the oldest are dropped and counted (`gateway_usage_records_dropped_total`).
/// Records carry their id as idempotency key, so a batch retried after a lost answer is harmless.
final class UsageRecorder: Sendable {
    private struct State {
        var buffer: [UsageRecord] = []
        var wake: CheckedContinuation<Void, Never>?
        /// Number of the current wait; a timer of an older wait has no effect.
        var waitNumber: UInt64 = 0
        /// The current wait's interval is over (possibly before the flush loop got to sleep).
        var intervalOver = false
        var queueReady = false
    }

    static let batchSize = 10

    private let broker: InternalServiceClient?
    private let capacity: Int
    private let interval: Duration
    private let metrics: TenancyMetrics
    private let logger: Logger
    private let state = Mutex(State())

    init(broker: InternalServiceClient?, capacity: Int, interval: Duration, metrics: TenancyMetrics, logger: Logger) {
        self.broker = broker; self.capacity = max(Self.batchSize, capacity); self.interval = interval
        self.metrics = metrics; self.logger = logger
    }

    /// Queues a record (never blocks, never fails).
    func record(_ record: UsageRecord) {
        guard broker != nil else { return }
        let cap = capacity
        let (dropped, wake) = state.withLock { s -> (Int, CheckedContinuation<Void, Never>?) in
            s.buffer.append(record)
            var dropped = 0
            if s.buffer.count > cap {
                dropped = s.buffer.count - cap
                s.buffer.removeFirst(dropped)
            }
            var wake: CheckedContinuation<Void, Never>?
            if s.buffer.count >= Self.batchSize { wake = s.wake; s.wake = nil }
            return (dropped, wake)
        }
        if dropped > 0 { metrics.usageDropped.inc(by: dropped) }
        wake?.resume()
    }

    /// Records waiting to be sent.
    var pending: Int { state.withLock { $0.buffer.count } }

    /// How many times the flush loop has waited so far (tests: about one per `interval` when idle).
    var waits: UInt64 { state.withLock { $0.waitNumber } }

    /// The flush loop (a background task): creates the queue, then sends batches until cancelled.
    func run() async {
        guard broker != nil else { return }
        while !Task.isCancelled {
            await waitForWork()
            if Task.isCancelled { break }
            // After a failure, wait a whole interval before trying again (no busy loop).
            if !(await flush()) { try? await Task.sleep(for: interval) }
        }
    }

    /// Sends everything pending, batch by batch; stops at the first failure (kept for later).
    /// Returns whether everything was delivered.
    @discardableResult
    func flush() async -> Bool {
        guard let broker else { return true }
        if !state.withLock({ $0.queueReady }) {
            do {
                try await broker.expectSuccess(.put, "/internal/v1/queues/\(AIJobContract.usageQueue)", body: Array("{}".utf8), timeout: .seconds(2))
                state.withLock { $0.queueReady = true }
            } catch {
                logger.warning("usage queue unavailable", ["error": .string(String(String(describing: error).prefix(200)))])
                return false
            }
        }
        while true {
            let batch = state.withLock { Array($0.buffer.prefix(Self.batchSize)) }
            if batch.isEmpty { return true }
            do {
                try await send(batch, broker: broker)
                metrics.usageSent.inc(by: batch.count)
                // Remove exactly what was sent (others may have been appended or dropped meanwhile).
                let ids = Set(batch.map(\.id))
                state.withLock { s in s.buffer.removeAll { ids.contains($0.id) } }
            } catch {
                logger.warning("usage records not delivered yet", [
                    "pending": .int(pending), "error": .string(String(String(describing: error).prefix(200))),
                ])
                return false
            }
        }
    }

    /// Flushes what is pending, for at most `timeout` (shutdown).
    func drain(timeout: Duration) async {
        guard broker != nil, pending > 0 else { return }
        let deadline = ContinuousClock.now + timeout
        while pending > 0 && ContinuousClock.now < deadline {
            await flush()
            if pending > 0 { try? await Task.sleep(for: .milliseconds(100)) }
        }
        if pending > 0 { logger.warning("usage records lost at shutdown", ["count": .int(pending)]) }
    }

    private func send(_ batch: [UsageRecord], broker: InternalServiceClient) async throws {
        struct Message: Encodable {
            var body: UsageRecord
            var tenant: String
            var idempotencyKey: String
            enum CodingKeys: String, CodingKey { case body, tenant, idempotencyKey = "idempotency_key" }
        }
        struct Batch: Encodable { var messages: [Message] }
        let body = try JSONEncoder().encode(Batch(messages: batch.map {
            Message(body: $0, tenant: $0.tenant.isEmpty ? "_service" : $0.tenant, idempotencyKey: String($0.id.prefix(200)))
        }))
        try await broker.expectSuccess(.post, "/internal/v1/queues/\(AIJobContract.usageQueue)/messages/batch", body: Array(body), timeout: .seconds(5))
    }

    /// Sleeps until `interval` passes or 10 records are pending (or the task is cancelled).
    ///
    /// The interval timer wakes only the wait it was made for, and only when it really ran out:
    /// a timer cancelled because the batch filled first must not count as "interval over" for
    /// the next wait, or every following wait would return at once (a busy loop that starts a
    /// timer task per turn and keeps a core busy).
    private func waitForWork() async {
        let number = state.withLock { s -> UInt64? in
            if s.buffer.count >= Self.batchSize { return nil }
            s.waitNumber &+= 1
            s.intervalOver = false
            return s.waitNumber
        }
        guard let number else { return }
        let timer = Task { [interval] in
            do { try await Task.sleep(for: interval) } catch { return }
            self.intervalEnded(number)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.buffer.count >= Self.batchSize || s.intervalOver || Task.isCancelled { return true }
                    s.wake = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: { self.resumeWaiter() }
        timer.cancel()
    }

    /// The interval of wait `number` is over: wakes it (or lets it return at once if it has not slept yet).
    private func intervalEnded(_ number: UInt64) {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard s.waitNumber == number else { return nil }
            s.intervalOver = true
            defer { s.wake = nil }
            return s.wake
        }
        c?.resume()
    }

    private func resumeWaiter() {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.wake = nil }
            return s.wake
        }
        c?.resume()
    }
}
