/// The tenant limits the gateway enforces; the raw value is the 429's `code` and the
/// `gateway_throttled_total{limit}` label.
public enum LimitName: String, Sendable, CaseIterable {
    case requestsPerMinute = "requests_per_minute"
    case tokensPerMinute = "tokens_per_minute"
    case costPerMinute = "cost_per_minute"
    case dailyBudget = "daily_budget"
    case concurrentRequests = "concurrent_requests"

    /// Words for the 429 message.
    var phrase: String {
        switch self {
        case .requestsPerMinute: "requests per minute"
        case .tokensPerMinute: "tokens per minute"
        case .costPerMinute: "AI cost per minute (micro-USD)"
        case .dailyBudget: "AI budget per day (micro-USD)"
        case .concurrentRequests: "concurrent requests"
        }
    }
}
