import BulkheadObservability
import Foundation
import Shared
import Synchronization

/// Runs one received job by the contract in `AIJobContract`: skip if cancelled (or already
/// finished), `running`, deltas, one terminal event, updates to api-core, ack — or nack for a
/// retryable failure before the last receive. Extends its lease and watches for cancellation.
struct JobRunner: Sendable {
    let broker: QueueBrokerClient
    let pipeline: any InferencePipeline
    let metrics: WorkerMetrics
    let logger: Logger
    let workerID: String
    /// How long a lease lasts; extended every third of it.
    let visibilitySeconds: Int
    let maxReceives: Int

    /// Set by the worker at shutdown when the drain timed out: the job stops without events and
    /// its lease is released by the worker (it runs again elsewhere).
    final class Abandon: Sendable {
        private let flag = Atomic<Bool>(false)
        func set() { flag.store(true, ordering: .relaxed) }
        var isSet: Bool { flag.load(ordering: .relaxed) }
    }

    private static func nowMs() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    func run(_ received: QueueBrokerClient.Received, abandon: Abandon) async {
        let queue = AIJobContract.jobQueue
        let job: AIJobMessage
        do {
            job = try JSONDecoder().decode(AIJobMessage.self, from: JSONEncoder().encode(received.body))
        } catch {
            // A body that is not a job never will be: drop it rather than retry forever.
            logger.error("invalid job message", ["message_id": .int(Int(received.id)), "error": .string(String(describing: error).prefix(300).description)])
            metrics.jobs.labels("invalid").inc()
            try? await broker.ack(queue, receipt: received.receipt)
            return
        }
        let stream = AIJobContract.streamKey(job.jobID)
        let startedAt = Self.nowMs()
        metrics.queueWait.observe(Double(max(0, startedAt - job.queuedAt)) / 1000)

        // Cancelled while queued, or already finished by an earlier delivery: nothing to run.
        let history: QueueBrokerClient.TypePage
        do { history = try await broker.readTypes(stream, after: 0) } catch {
            logger.warning("job stream unreadable; retrying later", ["job_id": .string(job.jobID)])
            try? await broker.nack(queue, receipt: received.receipt)
            metrics.jobs.labels("retried").inc()
            return
        }
        if history.events.contains(where: { $0.type == AIJobEventType.cancelRequested.rawValue || ($0.type.flatMap(AIJobEventType.init(rawValue:))?.isTerminal ?? false) }) {
            try? await broker.ack(queue, receipt: received.receipt)
            metrics.jobs.labels("skipped").inc()
            return
        }

        var timing = AIJobTiming(queuedAt: job.queuedAt, startedAt: startedAt)
        let running = AIJobEventData(jobID: job.jobID, status: .running, timing: timing, worker: workerID)
        do {
            try await broker.append(stream, events: [.init(type: AIJobEventType.status.rawValue, data: running)])
            try await broker.send(AIJobContract.updateQueue, body: AIJobUpdate(tenant: job.tenant, data: running), tenant: job.tenant)
        } catch {
            logger.warning("cannot mark job running; retrying later", ["job_id": .string(job.jobID)])
            try? await broker.nack(queue, receipt: received.receipt)
            metrics.jobs.labels("retried").inc()
            return
        }

        let cancelled = Atomic<Bool>(false)
        let broker = self.broker
        let logger = self.logger
        let batcher = DeltaBatcher(jobID: job.jobID) { events in
            do { try await broker.append(stream, events: events) } catch {
                logger.warning("job deltas not appended", ["job_id": .string(job.jobID), "count": .int(events.count)])
            }
        }
        let caller = Caller(
            principal: Principal(kind: job.subjectKind, subject: job.subject, tenant: job.tenant, plan: job.plan),
            requestID: "job:\(job.jobID)", jobID: job.jobID)
        let pipeline = self.pipeline
        let work = Task { () -> Result<PipelineResult, any Error> in
            do {
                switch job.kind {
                case .chat:
                    var body = job.parameters
                    body["model"] = .string(job.model)
                    body["messages"] = job.input["messages"] ?? .array([])
                    body["stream"] = nil
                    return .success(try await pipeline.chat(.object(body), caller: caller) { batcher.add($0) })
                case .embedding:
                    var body = job.parameters
                    body["model"] = .string(job.model)
                    body["input"] = job.input["input"] ?? .null
                    return .success(try await pipeline.embeddings(.object(body), caller: caller))
                }
            } catch { return .failure(error) }
        }
        // Lease keeper and cancellation watcher live as long as the work.
        let visibility = visibilitySeconds
        let keeper = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(1, visibility / 3)))
                if Task.isCancelled { return }
                do { try await broker.extend(queue, receipt: received.receipt, seconds: visibility) } catch {
                    logger.warning("lease not extended", ["job_id": .string(job.jobID)])
                }
            }
        }
        let watcher = Task {
            var after = history.lastID
            while !Task.isCancelled {
                do {
                    // Filtered by queue-broker: this job's own deltas do not wake the watcher.
                    let page = try await broker.readTypes(
                        stream, after: after, waitSeconds: 20, only: [AIJobEventType.cancelRequested.rawValue])
                    after = max(after, page.lastID)
                    if page.events.contains(where: { $0.type == AIJobEventType.cancelRequested.rawValue }) {
                        cancelled.store(true, ordering: .relaxed)
                        work.cancel()
                        return
                    }
                } catch {
                    if Task.isCancelled { return }
                    try? await Task.sleep(for: .milliseconds(500))
                }
            }
        }
        let result = await withTaskCancellationHandler { await work.value } onCancel: { work.cancel() }
        keeper.cancel()
        watcher.cancel()
        await batcher.finish()

        if abandon.isSet {
            metrics.jobs.labels("released").inc()
            return
        }
        timing.completedAt = Self.nowMs()
        let terminal: (AIJobEventType, AIJobEventData)
        switch result {
        case .success(let r):
            timing.firstTokenAt = r.firstTokenAt
            terminal = (.completed, AIJobEventData(
                jobID: job.jobID, status: .completed, result: r.response, usage: r.usage, costMicroUSD: r.costMicroUSD,
                savedCostMicroUSD: r.savedCostMicroUSD > 0 ? r.savedCostMicroUSD : nil, cache: r.cache, timing: timing))
        case .failure where cancelled.load(ordering: .relaxed):
            terminal = (.cancelled, AIJobEventData(jobID: job.jobID, status: .cancelled, timing: timing))
        case .failure(let error):
            let gatewayError = error as? GatewayError
            // Errors outside the pipeline's own (transport, cancellation) are worth another try.
            let retryable = gatewayError?.retryable ?? true
            if retryable && received.receiveCount < maxReceives {
                logger.info("job failed, will retry", ["job_id": .string(job.jobID), "receive_count": .int(received.receiveCount)])
                try? await broker.nack(queue, receipt: received.receipt)
                metrics.jobs.labels("retried").inc()
                return
            }
            let detail = ErrorBody.Detail(
                code: gatewayError?.code ?? gatewayError?.type ?? "internal_error",
                message: gatewayError?.message ?? "The job failed: \(String(describing: error).prefix(300))")
            terminal = (.failed, AIJobEventData(jobID: job.jobID, status: .failed, error: detail, timing: timing))
        }
        do {
            try await broker.append(stream, events: [.init(type: terminal.0.rawValue, data: terminal.1)])
            try await broker.send(AIJobContract.updateQueue, body: AIJobUpdate(tenant: job.tenant, data: terminal.1), tenant: job.tenant)
            try await broker.ack(queue, receipt: received.receipt)
            metrics.jobs.labels(terminal.0.rawValue).inc()
        } catch {
            // Not acked: the lease runs out and a redelivery finds the terminal event (or reruns).
            logger.warning("job result not fully recorded", ["job_id": .string(job.jobID), "error": .string(String(describing: error).prefix(200).description)])
        }
    }
}
