import BulkheadObservability

/// Stops the stack's children in dependency order, so nothing loses the services it writes to
/// while it drains.
///
/// First the processes that write to others while they finish (`inference-worker` appends job
/// deltas and usage records to queue-broker, `api-core` and `inference-gateway` write to
/// queue-broker, cache and auth): SIGTERM, then wait for them up to `stopTimeout` (SIGKILL for
/// what is left). Then everything else (queue-broker, cache, auth, metrics, autoscaler), again
/// with up to `stopTimeout`. A second stop request kills what is still running at once, stage by
/// stage. So a stop takes at most twice `stopTimeout`.
///
/// ```swift
/// await StackStopper(stopTimeout: .seconds(15), logger: logger, stopRequests: requests).stop(supervisors)
/// ```
public struct StackStopper: Sendable {
    /// How long each stage may take before SIGKILL.
    public var stopTimeout: Duration
    public var logger: Logger
    /// A second request (count ≥ 2) skips the waiting.
    public var stopRequests: StopRequests

    public init(stopTimeout: Duration, logger: Logger, stopRequests: StopRequests) {
        self.stopTimeout = stopTimeout
        self.logger = logger
        self.stopRequests = stopRequests
    }

    /// Processes stopped in the first stage: they write to the others while they drain.
    public static let writers: Set<String> = [
        StackService.inferenceWorker.name, StackService.apiCore.name, StackService.inferenceGateway.name,
    ]

    /// `items` split into stop stages, first to last, each in the given order; empty stages are left out.
    public static func stages<T>(_ items: [T], name: (T) -> String) -> [[T]] {
        let first = items.filter { writers.contains(name($0)) }
        let rest = items.filter { !writers.contains(name($0)) }
        return [first, rest].filter { !$0.isEmpty }
    }

    /// Stops every supervisor stage by stage; returns once all have finished.
    public func stop(_ supervisors: [ServiceSupervisor]) async {
        for stage in Self.stages(supervisors, name: \.service.name) {
            await stopStage(stage)
        }
    }

    private func stopStage(_ stage: [ServiceSupervisor]) async {
        let names = stage.map(\.service.name).joined(separator: ", ")
        logger.info("stopping services", ["children": .string(names)])
        for s in stage { s.beginStop() }
        let deadline = ContinuousClock.now + stopTimeout
        while stage.contains(where: { !$0.isFinished }) && ContinuousClock.now < deadline && stopRequests.count < 2 {
            await ChildProcess.sleep(.milliseconds(20))
        }
        let lingering = stage.filter { !$0.isFinished }
        if !lingering.isEmpty {
            logger.warning(
                "killing services that did not stop",
                ["children": .string(lingering.map(\.service.name).joined(separator: ", ")), "second_signal": .bool(stopRequests.count >= 2)])
            for s in lingering { s.kill() }
        }
        // The next stage starts only once these processes are gone.
        for s in stage { await s.waitUntilFinished() }
    }
}
