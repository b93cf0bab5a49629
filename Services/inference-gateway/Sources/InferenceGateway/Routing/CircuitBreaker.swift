/// A deployment's circuit breaker as a value-type state machine (no clock inside: callers pass
/// `now`, so tests drive time). Closed → `threshold` consecutive failures → open for `cooldown`
/// → half-open: one probe; its success closes, its failure opens again.
struct CircuitBreaker: Sendable {
    enum State: Int, Sendable { case closed = 0, halfOpen = 1, open = 2 }

    var settings: CircuitSettings
    private(set) var state: State = .closed
    private(set) var consecutiveFailures = 0
    private var openedAt: ContinuousClock.Instant?
    private var probeInFlight = false

    init(settings: CircuitSettings) { self.settings = settings }

    /// Whether a call may go now; in half-open, only one probe at a time is let through.
    mutating func allow(now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed: return true
        case .open:
            guard let openedAt, now - openedAt >= settings.cooldown else { return false }
            state = .halfOpen
            probeInFlight = true
            return true
        case .halfOpen:
            if probeInFlight { return false }
            probeInFlight = true
            return true
        }
    }

    /// Whether `allow` would let a call through (without taking the half-open probe slot).
    func available(now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .closed: return true
        case .open: return openedAt.map { now - $0 >= settings.cooldown } ?? true
        case .halfOpen: return !probeInFlight
        }
    }

    mutating func recordSuccess() {
        state = .closed
        consecutiveFailures = 0
        probeInFlight = false
        openedAt = nil
    }

    mutating func recordFailure(now: ContinuousClock.Instant) {
        consecutiveFailures += 1
        if state == .halfOpen || consecutiveFailures >= settings.failureThreshold {
            state = .open
            openedAt = now
        }
        probeInFlight = false
    }

    /// A call that neither proved nor disproved health (a 4xx, a cancellation) frees the probe slot.
    mutating func recordNeutral() {
        if state == .halfOpen { probeInFlight = false }
    }
}
