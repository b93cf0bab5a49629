import Synchronization

/// What the gateway remembers about one deployment across requests (and across catalog reloads,
/// by deployment id): its circuit breaker, requests in flight and observed latency.
final class DeploymentState: Sendable {
    let id: String
    private let breaker: Mutex<CircuitBreaker>
    let inFlight = Atomic<Int>(0)
    /// Exponentially weighted latency in microseconds (0: not observed yet).
    private let latencyMicros = Atomic<Int>(0)

    init(id: String, circuit: CircuitSettings) {
        self.id = id
        breaker = Mutex(CircuitBreaker(settings: circuit))
    }

    func updateSettings(_ circuit: CircuitSettings) { breaker.withLock { $0.settings = circuit } }

    func allow(now: ContinuousClock.Instant = .now) -> Bool { breaker.withLock { $0.allow(now: now) } }
    func available(now: ContinuousClock.Instant = .now) -> Bool { breaker.withLock { $0.available(now: now) } }
    var circuitState: CircuitBreaker.State { breaker.withLock { $0.state } }

    /// Records how an attempt ended; returns the circuit state after it.
    @discardableResult
    func record(success: Bool?, now: ContinuousClock.Instant = .now) -> CircuitBreaker.State {
        breaker.withLock { b in
            switch success {
            case true?: b.recordSuccess()
            case false?: b.recordFailure(now: now)
            case nil: b.recordNeutral()
            }
            return b.state
        }
    }

    /// Folds one latency sample into the moving average (weight 1/5 for the new sample).
    func observeLatency(_ d: Duration) {
        let micros = Int(d.components.seconds) * 1_000_000 + Int(d.components.attoseconds / 1_000_000_000_000)
        var current = latencyMicros.load(ordering: .relaxed)
        while true {
            let next = current == 0 ? max(1, micros) : max(1, (current * 4 + micros) / 5)
            let (exchanged, original) = latencyMicros.compareExchange(expected: current, desired: next, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    var latency: Int { latencyMicros.load(ordering: .relaxed) }
}
