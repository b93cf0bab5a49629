import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
import Foundation
import Shared
import Synchronization

/// Worker mode: consumes AI jobs from queue-broker and runs them through the pipeline, with
/// `GATEWAY_WORKER_CONCURRENCY` jobs at a time. On shutdown it stops receiving, lets running jobs
/// finish for up to `GATEWAY_WORKER_DRAIN_TIMEOUT`, then releases the leases of the rest so they
/// run again elsewhere.
public struct JobWorker: Sendable {
    public var readiness: [ReadinessCheck]
    public var background: [@Sendable () async throws -> Void]
    public var onShutdown: [@Sendable () async -> Void]

    public static func make(_ context: ServiceContext, pipeline: any InferencePipeline, tenancy: Tenancy) async throws -> JobWorker {
        let env = context.environment
        let concurrency = env.int("GATEWAY_WORKER_CONCURRENCY", default: 4, range: 1...256)
        let drainTimeout = env.duration("GATEWAY_WORKER_DRAIN_TIMEOUT", default: .seconds(30))
        let pollSeconds = env.int("GATEWAY_WORKER_POLL_SECONDS", default: 20, range: 1...20)
        guard let brokerURL = env.url("QUEUE_BROKER_URL", schemes: ["http", "https"])?.absoluteString else {
            env.recordProblem("worker mode (GATEWAY_MODE=worker|both) needs QUEUE_BROKER_URL")
            return JobWorker(readiness: [], background: [], onShutdown: [])
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectTimeout = .seconds(2)
        // Each job holds a long poll (cancel watch) besides its appends; receivers hold one each.
        configuration.maxConnectionsPerHost = concurrency * 3 + 8
        configuration.threadName = "gateway-worker"
        let client = try HTTPClient(configuration: configuration)
        let broker = QueueBrokerClient(service: InternalServiceClient(baseURL: brokerURL, token: context.configuration.internalToken, client: client))
        let settings = AIJobContract.jobQueueSettings
        let runner = JobRunner(
            broker: broker, pipeline: pipeline, metrics: try WorkerMetrics(context.metrics), logger: context.logger,
            workerID: "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)",
            visibilitySeconds: settings["visibility_timeout_seconds"] ?? 60, maxReceives: settings["max_receives"] ?? 3)
        let loop = WorkerLoop(runner: runner, broker: broker, concurrency: concurrency, pollSeconds: pollSeconds, logger: context.logger)
        return JobWorker(
            readiness: [ReadinessCheck(name: "queue_broker") {
                do { _ = try await broker.service.expectSuccess(.get, "/internal/v1/queues/\(AIJobContract.jobQueue)", timeout: .seconds(2)); return nil }
                catch { return "queue-broker unreachable or queue missing: \(String(describing: error).prefix(120))" }
            }],
            background: [{ await loop.run() }],
            onShutdown: [{
                await loop.drain(timeout: drainTimeout)
                await client.shutdown()
            }])
    }
}

/// The receive loops and the jobs they started (in tasks that shutdown's cancellation of the
/// background work does not reach, so they can finish).
final class WorkerLoop: Sendable {
    private struct Running { var task: Task<Void, Never>; var receipt: String; var abandon: JobRunner.Abandon }
    private struct State { var running: [Int64: Running] = [:]; var next: Int64 = 0 }

    let runner: JobRunner
    let broker: QueueBrokerClient
    let concurrency: Int
    let pollSeconds: Int
    let logger: Logger
    private let state = Mutex(State())

    init(runner: JobRunner, broker: QueueBrokerClient, concurrency: Int, pollSeconds: Int, logger: Logger) {
        self.runner = runner; self.broker = broker; self.concurrency = concurrency; self.pollSeconds = pollSeconds; self.logger = logger
    }

    var inFlight: Int { state.withLock { $0.running.count } }

    /// Creates the queues, then runs `concurrency` receive loops until cancelled.
    func run() async {
        while !Task.isCancelled {
            do {
                try await broker.ensureQueue(AIJobContract.jobQueue, settings: AIJobContract.jobQueueSettings)
                try await broker.ensureQueue(AIJobContract.updateQueue)
                try await broker.ensureQueue(AIJobContract.usageQueue)
                break
            } catch {
                logger.warning("queue-broker not ready for the worker", ["error": .string(String(describing: error).prefix(200).description)])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await withDiscardingTaskGroup { group in
            for _ in 0..<concurrency { group.addTask { await self.receiveLoop() } }
        }
    }

    private func receiveLoop() async {
        while !Task.isCancelled {
            let messages: [QueueBrokerClient.Received]
            do {
                messages = try await broker.receive(AIJobContract.jobQueue, max: 1, waitSeconds: pollSeconds)
            } catch {
                if Task.isCancelled { return }
                logger.warning("job receive failed", ["error": .string(String(describing: error).prefix(200).description)])
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            guard let message = messages.first else { continue }
            if Task.isCancelled {
                // Shutting down: hand it back at once rather than start it.
                try? await broker.release(AIJobContract.jobQueue, receipt: message.receipt)
                return
            }
            await runDetached(message)
        }
    }

    /// Runs the job in its own task and waits for it, but stops waiting (leaving it running)
    /// when this loop is cancelled, so shutdown's drain decides its fate.
    private func runDetached(_ message: QueueBrokerClient.Received) async {
        let abandon = JobRunner.Abandon()
        let done = Completion()
        let runner = self.runner
        // Created under the lock, so the task's own removal (which takes it) always comes after.
        state.withLock { s in
            let id = s.next
            s.next += 1
            let task = Task {
                runner.metrics.inFlight.inc()
                await runner.run(message, abandon: abandon)
                runner.metrics.inFlight.dec()
                self.finished(id)
                done.signal()
            }
            s.running[id] = Running(task: task, receipt: message.receipt, abandon: abandon)
        }
        await done.wait()
    }

    private func finished(_ id: Int64) { _ = state.withLock { $0.running.removeValue(forKey: id) } }

    /// Waits up to `timeout` for running jobs, then abandons the rest and releases their leases.
    func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while inFlight > 0 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        let left = state.withLock { Array($0.running.values) }
        guard !left.isEmpty else { return }
        logger.warning("drain timed out; releasing unfinished jobs", ["count": .int(left.count)])
        for job in left {
            job.abandon.set()
            job.task.cancel()
        }
        for job in left {
            try? await broker.release(AIJobContract.jobQueue, receipt: job.receipt)
        }
        // Let the cancelled tasks wind down (they write nothing once abandoned).
        let end = ContinuousClock.now + .seconds(2)
        while inFlight > 0 && ContinuousClock.now < end { try? await Task.sleep(for: .milliseconds(10)) }
    }
}

/// A one-shot signal that a waiter may stop waiting for when its task is cancelled.
final class Completion: Sendable {
    private struct State { var done = false; var waiter: CheckedContinuation<Void, Never>? }
    private let state = Mutex(State())

    func signal() {
        let w = state.withLock { s -> CheckedContinuation<Void, Never>? in s.done = true; defer { s.waiter = nil }; return s.waiter }
        w?.resume()
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.done || Task.isCancelled { return true }
                    s.waiter = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            let w = state.withLock { s -> CheckedContinuation<Void, Never>? in defer { s.waiter = nil }; return s.waiter }
            w?.resume()
        }
    }
}
