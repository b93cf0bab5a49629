import BulkheadObservability
import BulkheadService
import Foundation
import Shared

/// Ends AI jobs whose `ai-jobs` message queue-broker dead-lettered. A worker nacks retryable
/// failures; a message that outlives the queue's `max_receives` (a worker crashed or lost its
/// lease on every delivery) is moved to the queue's dead letters and no worker ever writes its
/// terminal event. Without this pass such a job stays `queued`/`running` for ever: it counts
/// against the tenant's concurrent-jobs limit and its SSE/WebSocket readers wait in vain.
///
/// Each pass reads the dead letters (oldest first) and, for a job that is not terminal yet:
/// - if the job's stream already holds a terminal event (the worker finished but its update or
///   ack was lost), applies that event to the record (`settled`);
/// - otherwise appends the terminal event a worker would have written (`failed` with
///   `retries_exhausted`, or `cancelled` when a cancel was requested) to the stream, then applies
///   it to the record, so live readers end exactly as after a worker's failure.
/// The append comes first: if it fails the record is left alone and the next pass retries.
/// Each letter is deleted from queue-broker once its job is terminal (`DELETE
/// .../dead-letters/{id}`), so a pass never sees it again and a letter that arrives meanwhile
/// is never lost, as it would be to a purge of them all.
final class JobReaper: Sendable {
    let broker: BrokerClient
    let jobs: JobStore
    let metrics: APICoreMetrics
    let logger: Logger
    /// Time between passes.
    let interval: Duration
    /// Dead letters read per pass (queue-broker lists at most 1000, oldest first).
    let batchSize: Int

    /// The error a job gets when its message was dead-lettered.
    static let errorCode = "retries_exhausted"

    init(broker: BrokerClient, jobs: JobStore, metrics: APICoreMetrics, logger: Logger, interval: Duration, batchSize: Int = 1000) {
        self.broker = broker
        self.jobs = jobs
        self.metrics = metrics
        self.logger = logger
        self.interval = interval
        self.batchSize = batchSize
    }

    /// Runs passes every `interval` until cancelled; a pass that cannot reach queue-broker is
    /// logged once per outage and simply tried again at the next tick.
    func run() async throws {
        var failing = false
        while !Task.isCancelled {
            try await Task.sleep(for: interval)
            do {
                try await pass()
                metrics.reaperRounds.labels("ok").inc()
                if failing { logger.info("job reaper reaches queue-broker again") }
                failing = false
            } catch {
                if Task.isCancelled { return }
                metrics.reaperRounds.labels("error").inc()
                if !failing { logger.warning("job reaper cannot handle dead letters; retrying", ["error": .string(String(describing: error).prefix(300).description)]) }
                failing = true
            }
        }
    }

    /// One pass over the dead letters; returns how many jobs it ended.
    @discardableResult
    func pass() async throws -> Int {
        let letters = try await broker.deadLetters(AIJobContract.jobQueue, as: AIJobMessage.self, limit: batchSize)
        var ended = 0
        for letter in letters {
            if try await end(letter) { ended += 1 }
            // Only now: a failure above leaves the letter for the next pass.
            try await broker.deleteDeadLetter(AIJobContract.jobQueue, id: letter.id)
        }
        return ended
    }

    /// Ends the letter's job if it is not terminal yet; true when the record changed.
    private func end(_ letter: BrokerClient.DeadLetter<AIJobMessage>) async throws -> Bool {
        // A body that is not a job message names no job (the worker drops such bodies too).
        guard let message = letter.body else { return false }
        let (id, tenant) = (message.jobID, message.tenant)
        guard let record = try await BlockingWork.run({ [jobs] in try jobs.job(id: id, tenant: tenant) }), !record.status.isTerminal else {
            return false
        }
        let stream = AIJobContract.streamKey(id)
        let now = Timestamps.nowMillis()
        let data: AIJobEventData
        let result: String
        if let recorded = try await terminalEvent(stream), let status = recorded.type.flatMap(AIJobStatus.init(rawValue:)),
            var finished = try? JSONDecoder().decode(AIJobEventData.self, from: Data(JSONInput.encode(recorded.data)))
        {
            finished.status = status
            data = finished
            result = "settled"
        } else {
            data = Self.terminalData(record, letter, now: now)
            let type = data.status == .cancelled ? AIJobEventType.cancelled : .failed
            try await broker.append(stream, [(type.rawValue, JSONInput.encode(data))])
            result = type.rawValue
        }
        let update = AIJobUpdate(tenant: tenant, data: data)
        // nil: a worker's update got there first; its status stands.
        guard let status = try await BlockingWork.run({ [jobs] in try jobs.apply(update, now: now) }) else { return false }
        metrics.finished.labels(status.rawValue).inc()
        metrics.reaped.labels(result).inc()
        logger.info(
            "dead-lettered job ended",
            ["job_id": .string(id), "tenant": .string(tenant), "status": .string(status.rawValue), "reaper_result": .string(result),
             "receive_count": .int(letter.receiveCount ?? 0)])
        return true
    }

    /// The first terminal event on the stream, if any. Asks queue-broker for terminal types only
    /// (`types=`); a broker that does not filter answers every event, so the types are checked
    /// here as well and the stream is paged to its end (at most `STREAM_MAX_LENGTH` events; this
    /// runs only for a dead-lettered job that is not finished).
    private func terminalEvent(_ stream: String) async throws -> BrokerClient.StreamEvent? {
        let terminalTypes = AIJobEventType.allCases.filter(\.isTerminal).map(\.rawValue)
        var after: Int64 = 0
        for _ in 0..<100 {
            let page = try await broker.read(stream, after: after, waitSeconds: 0, limit: 1000, types: terminalTypes)
            if let terminal = page.events.first(where: { $0.type.map(terminalTypes.contains) ?? false }) { return terminal }
            guard let last = page.events.last?.id, last > after else { return nil }
            after = last
        }
        return nil
    }

    /// The terminal event a worker would have written: `cancelled` when the tenant asked for it
    /// (the job did stop), otherwise `failed` with `retries_exhausted`.
    static func terminalData(_ record: JobRecord, _ letter: BrokerClient.DeadLetter<AIJobMessage>, now: Int64) -> AIJobEventData {
        let timing = AIJobTiming(queuedAt: record.timing.queuedAt ?? record.createdAt, startedAt: record.timing.startedAt, completedAt: now)
        if record.cancelRequested { return AIJobEventData(jobID: record.id, status: .cancelled, timing: timing) }
        let deliveries = letter.receiveCount.map { "\($0) deliver\($0 == 1 ? "y" : "ies")" } ?? "its last allowed delivery"
        let reason = letter.reason.map { " (\($0))" } ?? ""
        let error = ErrorBody.Detail(
            code: errorCode,
            message: "No worker finished the job: queue-broker dead-lettered its message after \(deliveries)\(reason). Submit it again to retry.")
        return AIJobEventData(jobID: record.id, status: .failed, error: error, timing: timing)
    }
}
