import Shared

/// Retry and fallback settings of the dispatcher.
struct RetryPolicy: Sendable {
    /// Attempts per model (the first included) before moving to its fallbacks.
    var maxAttempts = 3
    /// Exponential backoff: base × 2^(attempt−1), with full jitter, capped at `maxDelay`.
    var baseDelay: Duration = .milliseconds(100)
    var maxDelay: Duration = .seconds(5)
    /// A `retry-after` longer than this is not waited for: the call moves to a fallback instead.
    var maxRetryAfter: Duration = .seconds(30)
    /// Deadline for all attempts and waits of one call (streams: until the first token).
    var totalDeadline: Duration = .seconds(600)
}

/// Runs one call against a model's deployments: picks a deployment by the model's strategy,
/// retries 429/5xx/connect errors/timeouts with exponential backoff and jitter (honouring
/// `retry-after`), falls back to the model's fallbacks (also when the prompt does not fit a
/// context window), and keeps each deployment's circuit breaker, in-flight count and latency.
struct Dispatcher: Sendable {
    let policy: RetryPolicy
    let metrics: CoreMetrics

    /// What a successful attempt hands back, with the deployment that served it.
    struct Served<T: Sendable>: Sendable {
        var value: T
        var deployment: RoutedDeployment
        var model: String
    }

    /// Runs `attempt` until one succeeds. The deployment's in-flight count stays raised after a
    /// success: the caller calls `release(_:)` when the answer is complete (streams end later).
    func run<T: Sendable>(
        chain: [ModelRoute], requiredContext: Int,
        attempt: @Sendable (RoutedDeployment) async throws -> T
    ) async throws(GatewayError) -> Served<T> {
        let deadline = ContinuousClock.now + policy.totalDeadline
        var lastError: ProviderError?
        var previousModel: String?
        for route in chain {
            let model = route.config.name
            guard DeploymentSelector.fits(route, requiredContext: requiredContext) else {
                lastError = lastError ?? Self.contextError(requiredContext: requiredContext, model: model)
                continue
            }
            if let previousModel { metrics.fallbacks.labels(previousModel, model).inc() }
            previousModel = model
            var tried: Set<String> = []
            var attempts = 0
            var delay: Duration?
            while attempts < policy.maxAttempts {
                if Task.isCancelled { throw Self.cancelled }
                guard let d = DeploymentSelector.pick(route, tried: tried, requiredContext: requiredContext) else {
                    if lastError == nil {
                        lastError = ProviderError(kind: .circuitOpen, error: GatewayError(
                            status: .serviceUnavailable, message: "No healthy deployment of '\(model)' is available.", type: "api_error",
                            code: "no_healthy_deployment", retryable: true))
                    }
                    break
                }
                if let wait = delay {
                    if ContinuousClock.now + wait > deadline { break }
                    do { try await Task.sleep(for: wait) } catch { throw Self.cancelled }
                }
                guard d.state.allow() else {
                    // Another request took the half-open probe meanwhile.
                    metrics.upstreamErrors.labels(d.config.id, "circuit_open").inc()
                    tried.insert(d.config.id)
                    continue
                }
                attempts += 1
                if attempts > 1 { metrics.retries.labels(model).inc() }
                d.state.inFlight.add(1, ordering: .relaxed)
                metrics.inFlight.labels(d.config.id).inc()
                do {
                    let value = try await attempt(d)
                    metrics.upstreamRequests.labels(d.config.id, "ok").inc()
                    metrics.circuitState.labels(d.config.id).set(Double(d.state.record(success: true).rawValue))
                    return Served(value: value, deployment: d, model: model)
                } catch {
                    release(d)
                    if Task.isCancelled {
                        d.state.record(success: nil)
                        throw Self.cancelled
                    }
                    let failure = ProviderError.transport(error, deployment: d.config.id)
                    metrics.upstreamRequests.labels(d.config.id, failure.kind.rawValue).inc()
                    metrics.upstreamErrors.labels(d.config.id, failure.kind.rawValue).inc()
                    let state = d.state.record(success: failure.countsAgainstHealth ? false : nil)
                    metrics.circuitState.labels(d.config.id).set(Double(state.rawValue))
                    lastError = failure
                    if failure.contextExceeded { break }
                    if !failure.retryable { throw failure.error }
                    tried.insert(d.config.id)
                    if let retryAfter = failure.retryAfter {
                        if retryAfter > policy.maxRetryAfter { break }
                        delay = retryAfter
                    } else {
                        delay = backoff(attempt: attempts)
                    }
                }
            }
            if ContinuousClock.now >= deadline { break }
        }
        throw lastError?.error ?? GatewayError(
            status: .serviceUnavailable, message: "No deployment could serve the request.", type: "api_error",
            code: "no_healthy_deployment", retryable: true)
    }

    /// Lowers the deployment's in-flight count (once per successful `run`).
    func release(_ d: RoutedDeployment) {
        d.state.inFlight.subtract(1, ordering: .relaxed)
        metrics.inFlight.labels(d.config.id).dec()
    }

    /// Records a failure that happened after the attempt was handed back (a stream failing mid-way).
    func recordLateFailure(_ d: RoutedDeployment, _ failure: ProviderError) {
        metrics.upstreamErrors.labels(d.config.id, failure.kind.rawValue).inc()
        if failure.countsAgainstHealth {
            metrics.circuitState.labels(d.config.id).set(Double(d.state.record(success: false).rawValue))
        }
    }

    func backoff(attempt: Int) -> Duration {
        let base = Double(policy.baseDelay.components.seconds) + Double(policy.baseDelay.components.attoseconds) / 1e18
        let cap = Double(policy.maxDelay.components.seconds) + Double(policy.maxDelay.components.attoseconds) / 1e18
        let exp = min(cap, base * Double(1 << min(20, max(0, attempt - 1))))
        // Full jitter, but never less than half the step so retries do not stampede.
        return .seconds(Double.random(in: (exp / 2)...exp))
    }

    static let cancelled = GatewayError(status: .init(code: 499), message: "The request was cancelled.", type: "api_error", code: "cancelled")

    static func contextError(requiredContext: Int, model: String) -> ProviderError {
        ProviderError(
            kind: .status4xx,
            error: GatewayError(
                status: .badRequest,
                message: "This model's maximum context length is too small: the request needs about \(requiredContext) tokens (prompt plus max_tokens) and no deployment of '\(model)' or its fallbacks can take it.",
                type: "invalid_request_error", param: "messages", code: "context_length_exceeded"),
            contextExceeded: true)
    }
}
