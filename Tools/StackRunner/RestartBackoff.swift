/// Delays between restarts of a crashing child: `initial`, doubling up to `maximum`, back to
/// `initial` once a run lasted `healthyAfter` (it was healthy, so this is a new incident).
///
/// ```swift
/// var backoff = RestartBackoff()
/// backoff.delay(afterRunningFor: .seconds(1))   // 0.5 s
/// backoff.delay(afterRunningFor: .seconds(1))   // 1 s
/// backoff.delay(afterRunningFor: .seconds(90))  // 0.5 s again
/// ```
public struct RestartBackoff: Sendable, Equatable {
    public let initial: Duration
    public let maximum: Duration
    public let healthyAfter: Duration
    /// The delay the next restart gets, unless the run that just ended was healthy.
    public private(set) var upcoming: Duration

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), healthyAfter: Duration = .seconds(60)) {
        self.initial = initial
        self.maximum = max(initial, maximum)
        self.healthyAfter = healthyAfter
        upcoming = initial
    }

    /// The delay before restarting a child that ran for `uptime`, advancing the sequence.
    public mutating func delay(afterRunningFor uptime: Duration) -> Duration {
        if uptime >= healthyAfter { upcoming = initial }
        let delay = upcoming
        upcoming = min(upcoming * 2, maximum)
        return delay
    }
}
