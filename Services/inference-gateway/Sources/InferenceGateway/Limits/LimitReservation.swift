/// What one admitted call reserved, so it can be charged as it goes and reconciled at the end.
struct LimitReservation: Sendable {
    enum Store: Sendable { case remote, local }

    var tenant: String
    var plan: TenantPlan
    var keys: LimitKeys
    /// Where the reservation was made; reconciliation goes to the same store.
    var store: Store
    var tokens: Int
    var cost: Int
    var daily: Int
    var concurrencyLimit: Int
    /// Seconds until the daily window ends (the counter's TTL when it is created).
    var dayWindow: Int
    /// `x-ratelimit-*` headers for the response.
    var headers: [(String, String)]

    /// Force-applied deltas: tokens and cost beyond (or below) what was charged so far, and
    /// optionally the release of the concurrency slot.
    func adjustments(tokens dTokens: Int, cost dCost: Int, release: Bool) -> [CounterOp] {
        var ops: [CounterOp] = []
        if dTokens != 0 && plan.tokensPerMinute > 0 {
            ops.append(.bucket(keys.tokens, amount: dTokens, capacity: plan.tokensPerMinute, force: true))
        }
        if dCost != 0 && plan.aiCostMicroUsdPerMinute > 0 {
            ops.append(.bucket(keys.cost, amount: dCost, capacity: plan.aiCostMicroUsdPerMinute, force: true))
        }
        if dCost != 0 && plan.aiBudgetMicroUsdPerDay > 0 {
            ops.append(.counter(keys.day, amount: dCost, limit: plan.aiBudgetMicroUsdPerDay, window: dayWindow, force: true))
        }
        if release { ops.append(.counter(keys.concurrent, amount: -1, limit: concurrencyLimit, window: TenantLimiter.concurrencyWindow, force: true)) }
        return ops
    }
}
