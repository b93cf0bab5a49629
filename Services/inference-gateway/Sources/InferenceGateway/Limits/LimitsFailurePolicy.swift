/// What admission does while the counter store (cache service) is unreachable:
/// `GATEWAY_LIMITS_ON_STORE_FAILURE`.
public enum LimitsFailurePolicy: String, Sendable {
    /// Local in-process limits with the same math (per replica), `gateway_limits_degraded` 1.
    case open
    /// Refuse with 503 `limits_unavailable`.
    case closed
}
