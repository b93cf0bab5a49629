/// A tenant's limits, as auth's `GET /internal/tenants/{tenant}/plan` gives them.
public struct TenantPlan: Codable, Sendable, Equatable {
    public var name: String
    /// AI spend per UTC day, micro-dollars.
    public var aiBudgetMicroUsdPerDay: Int
    /// AI spend per minute (a token bucket), micro-dollars.
    public var aiCostMicroUsdPerMinute: Int
    public var requestsPerMinute: Int
    /// Prompt plus completion tokens per minute.
    public var tokensPerMinute: Int
    public var maxConcurrentJobs: Int

    public init(
        name: String, aiBudgetMicroUsdPerDay: Int, aiCostMicroUsdPerMinute: Int, requestsPerMinute: Int, tokensPerMinute: Int,
        maxConcurrentJobs: Int
    ) {
        self.name = name; self.aiBudgetMicroUsdPerDay = aiBudgetMicroUsdPerDay; self.aiCostMicroUsdPerMinute = aiCostMicroUsdPerMinute
        self.requestsPerMinute = requestsPerMinute; self.tokensPerMinute = tokensPerMinute; self.maxConcurrentJobs = maxConcurrentJobs
    }

    enum CodingKeys: String, CodingKey {
        case name, aiBudgetMicroUsdPerDay = "ai_budget_micro_usd_per_day", aiCostMicroUsdPerMinute = "ai_cost_micro_usd_per_minute"
        case requestsPerMinute = "requests_per_minute", tokensPerMinute = "tokens_per_minute", maxConcurrentJobs = "max_concurrent_jobs"
    }

    /// auth's default plans, used when auth cannot be asked (no `AUTH_URL`, or auth down with
    /// nothing cached): the plan named in the caller's token, else `free`.
    public static func builtIn(_ name: String) -> TenantPlan {
        switch name {
        case "pro":
            TenantPlan(name: "pro", aiBudgetMicroUsdPerDay: 50_000_000, aiCostMicroUsdPerMinute: 2_000_000, requestsPerMinute: 600,
                       tokensPerMinute: 200_000, maxConcurrentJobs: 10)
        case "enterprise":
            TenantPlan(name: "enterprise", aiBudgetMicroUsdPerDay: 1_000_000_000, aiCostMicroUsdPerMinute: 20_000_000,
                       requestsPerMinute: 6_000, tokensPerMinute: 2_000_000, maxConcurrentJobs: 100)
        default:
            TenantPlan(name: "free", aiBudgetMicroUsdPerDay: 1_000_000, aiCostMicroUsdPerMinute: 100_000, requestsPerMinute: 60,
                       tokensPerMinute: 20_000, maxConcurrentJobs: 1)
        }
    }
}
