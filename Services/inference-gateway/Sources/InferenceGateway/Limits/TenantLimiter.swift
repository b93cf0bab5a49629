import BulkheadObservability
import Foundation
import Shared
import Synchronization

/// Admission against a tenant's plan: one counter round trip that takes a request, the estimated
/// tokens and cost (per-minute buckets), the cost from the daily budget and a concurrency slot,
/// all or nothing. Reconciliation later force-applies actual − reserved.
final class TenantLimiter: Sendable {
    /// Window of the concurrency counter: a slot leaked by a crashed replica is forgotten after it.
    static let concurrencyWindow = 300

    let remote: (any CounterStore)?
    let local: LocalCounterStore
    let policy: LimitsFailurePolicy
    let plans: PlanDirectory
    let concurrencyPerJob: Int
    let metrics: TenancyMetrics
    let logger: Logger
    /// After a store failure, the store is not asked again before this instant.
    private let remoteRetryAt = Mutex<ContinuousClock.Instant?>(nil)
    private let wallClock: @Sendable () -> Double

    init(
        remote: (any CounterStore)?, local: LocalCounterStore = LocalCounterStore(), policy: LimitsFailurePolicy, plans: PlanDirectory,
        concurrencyPerJob: Int, metrics: TenancyMetrics, logger: Logger,
        wallClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.remote = remote; self.local = local; self.policy = policy; self.plans = plans
        self.concurrencyPerJob = concurrencyPerJob; self.metrics = metrics; self.logger = logger; self.wallClock = wallClock
    }

    /// Whether `principal` is subject to tenant limits (services and anonymous callers are not).
    static func isLimited(_ principal: Principal) -> Bool { principal.kind != .service && !principal.tenant.isEmpty }

    /// Reserves `call`'s share of its tenant's limits, or throws a 429 naming the limit
    /// (503 when the store is down and the policy is `closed`). nil for unlimited callers.
    func admit(_ call: InferenceCall) async throws -> LimitReservation? {
        let principal = call.caller.principal
        guard Self.isLimited(principal) else { return nil }
        let plan = await plans.plan(tenant: principal.tenant, hint: principal.plan)
        let now = wallClock()
        let epochDay = Int(now / 86_400)
        let dayWindow = max(1, 86_400 - Int(now) % 86_400)
        let keys = LimitKeys(tenant: principal.tenant, epochDay: epochDay)
        // Saturating: plan values come from auth and may be huge ("unlimited").
        let concurrency = CounterBounds.product(plan.maxConcurrentJobs, concurrencyPerJob)

        // A limit of 0 allows nothing: refuse without a round trip.
        for (name, value) in [(LimitName.requestsPerMinute, plan.requestsPerMinute), (.tokensPerMinute, plan.tokensPerMinute),
                              (.costPerMinute, plan.aiCostMicroUsdPerMinute), (.dailyBudget, plan.aiBudgetMicroUsdPerDay),
                              (.concurrentRequests, concurrency)] where value <= 0 {
            throw refusal(name, limit: 0, retryAfterMs: 60_000, plan: plan, tenant: principal.tenant, headers: [])
        }
        // Never reserve more than a bucket holds, or a big max_tokens could never be admitted.
        let tokens = min(max(0, call.estimatedPromptTokens + call.maxCompletionTokens), plan.tokensPerMinute)
        let cost = Int(min(max(0, call.reserveCostMicroUSD), Int64(plan.aiCostMicroUsdPerMinute)))
        let daily = Int(min(max(0, call.reserveCostMicroUSD), Int64(plan.aiBudgetMicroUsdPerDay)))
        let ops: [CounterOp] = [
            .counter(keys.concurrent, amount: 1, limit: concurrency, window: Self.concurrencyWindow),
            .counter(keys.day, amount: daily, limit: plan.aiBudgetMicroUsdPerDay, window: dayWindow),
            .bucket(keys.cost, amount: cost, capacity: plan.aiCostMicroUsdPerMinute),
            .bucket(keys.tokens, amount: tokens, capacity: plan.tokensPerMinute),
            .bucket(keys.requests, amount: 1, capacity: plan.requestsPerMinute),
        ]
        let (result, store) = try await apply(ops)
        let headers = Self.rateHeaders(result, keys: keys, plan: plan)
        guard result.allowed else {
            // Name the first refusing limit in order of what the tenant can least wait out;
            // Retry-After is the longest wait among those that refused (all must pass).
            let refused = result.results.filter { !$0.allowed }
            let order: [(String, LimitName)] = [
                (keys.concurrent, .concurrentRequests), (keys.day, .dailyBudget), (keys.cost, .costPerMinute),
                (keys.tokens, .tokensPerMinute), (keys.requests, .requestsPerMinute),
            ]
            let first = order.first { k in refused.contains { $0.key == k.0 } }
            let name = first?.1 ?? .requestsPerMinute
            // A concurrency slot frees when some call ends, not when the window does.
            let waits = refused.map { $0.key == keys.concurrent ? 1_000 : $0.retryAfterMs }
            let limitValue = switch name {
            case .requestsPerMinute: plan.requestsPerMinute
            case .tokensPerMinute: plan.tokensPerMinute
            case .costPerMinute: plan.aiCostMicroUsdPerMinute
            case .dailyBudget: plan.aiBudgetMicroUsdPerDay
            case .concurrentRequests: concurrency
            }
            throw refusal(name, limit: limitValue, retryAfterMs: waits.max() ?? 1_000, plan: plan, tenant: principal.tenant, headers: headers)
        }
        return LimitReservation(
            tenant: principal.tenant, plan: plan, keys: keys, store: store, tokens: tokens, cost: cost, daily: daily,
            concurrencyLimit: concurrency, dayWindow: dayWindow, headers: headers)
    }

    /// Applies force ops without holding up the caller: at once on the local store (no I/O, and a
    /// sequential client must find its slot released), in a tracked task on the shared one.
    func adjustSoon(_ ops: [CounterOp], on store: LimitReservation.Store, pending: PendingWork) {
        guard !ops.isEmpty else { return }
        switch store {
        case .local: _ = local.applyNow(ops)
        case .remote: pending.run { await self.adjust(ops, on: store) }
        }
    }

    /// Applies force ops (charges, refunds, slot release) on the store the reservation used.
    func adjust(_ ops: [CounterOp], on store: LimitReservation.Store) async {
        guard !ops.isEmpty else { return }
        switch store {
        case .local:
            _ = local.applyNow(ops)
        case .remote:
            guard let remote else { return }
            for attempt in 0..<2 {
                do {
                    _ = try await remote.apply(ops)
                    return
                } catch let error as InternalServiceClient.StatusError where Self.isRequestBug(error) {
                    // Sending the same ops again would be refused again.
                    metrics.limitStoreErrors.inc()
                    logRequestBug(error, ops: ops)
                    return
                } catch {
                    metrics.limitStoreErrors.inc()
                    if attempt == 0 { try? await Task.sleep(for: .milliseconds(200)) }
                }
            }
            logger.warning("limit reconciliation lost", ["ops": .int(ops.count)])
        }
    }

    /// One atomic apply on the shared store, or the failure policy when it is unreachable.
    private func apply(_ ops: [CounterOp]) async throws -> (CounterApplyResult, LimitReservation.Store) {
        guard let remote else { return (local.applyNow(ops), .local) }
        let skip = remoteRetryAt.withLock { at in at.map { ContinuousClock.now < $0 } ?? false }
        if !skip {
            do {
                let result = try await remote.apply(ops)
                if remoteRetryAt.withLock({ at in defer { at = nil }; return at != nil }) {
                    metrics.limitsDegraded.set(0)
                    logger.info("counter store reachable again; global limits restored")
                }
                return (result, .remote)
            } catch let error as InternalServiceClient.StatusError where Self.isRequestBug(error) {
                // The store is up and said our request is wrong: a bug here, not an outage. No
                // degraded mode and no back-off (the next request may be fine); this call is
                // counted on the local store so the caller is not refused for our mistake.
                metrics.limitStoreErrors.inc()
                logRequestBug(error, ops: ops)
                return (local.applyNow(ops), .local)
            } catch {
                metrics.limitStoreErrors.inc()
                metrics.limitsDegraded.set(1)
                // Stop paying the timeout on every request; look again in a second.
                remoteRetryAt.withLock { $0 = ContinuousClock.now + .seconds(1) }
                logger.warning("counter store unreachable", [
                    "policy": .string(policy.rawValue), "error": .string(String(String(describing: error).prefix(200))),
                ])
            }
        }
        switch policy {
        case .open: return (local.applyNow(ops), .local)
        case .closed:
            throw GatewayError(
                status: .serviceUnavailable, message: "Usage limits cannot be checked right now; try again shortly.", type: "api_error",
                code: "limits_unavailable", headers: [("Retry-After", "1")], retryable: true)
        }
    }

    /// A 4xx answer other than 408/429: the store refused the request itself (invalid ops).
    static func isRequestBug(_ error: InternalServiceClient.StatusError) -> Bool {
        (400..<500).contains(error.status) && error.status != 408 && error.status != 429
    }

    private func logRequestBug(_ error: InternalServiceClient.StatusError, ops: [CounterOp]) {
        logger.error("counter store refused the limit request (a gateway bug, not an outage)", [
            "status": .int(error.status), "ops": .int(ops.count), "error": .string(String(error.body.prefix(300))),
        ])
    }

    private func refusal(
        _ name: LimitName, limit: Int, retryAfterMs: Int, plan: TenantPlan, tenant: String, headers: [(String, String)]
    ) -> GatewayError {
        metrics.throttled.labels(name.rawValue).inc()
        let seconds = max(1, Int((Double(min(retryAfterMs, 86_400_000)) / 1000).rounded(.up)))
        let message = "Rate limit reached for \(name.phrase) on plan '\(plan.name)' (limit \(limit)). Try again in \(seconds) s."
        return GatewayError.rateLimited(limit: name.rawValue, message: message, retryAfterSeconds: seconds, headers: headers)
    }

    /// OpenAI's `x-ratelimit-*` headers from the request and token buckets.
    static func rateHeaders(_ result: CounterApplyResult, keys: LimitKeys, plan: TenantPlan) -> [(String, String)] {
        var headers: [(String, String)] = []
        for (key, label, capacity) in [(keys.requests, "requests", plan.requestsPerMinute), (keys.tokens, "tokens", plan.tokensPerMinute)] {
            guard let r = result.results.first(where: { $0.key == key }) else { continue }
            let remaining = max(0, min(capacity, r.value))
            let perSecond = Double(capacity) / 60
            let reset = perSecond > 0 ? Double(capacity - remaining) / perSecond : 0
            headers.append(("x-ratelimit-limit-\(label)", String(capacity)))
            headers.append(("x-ratelimit-remaining-\(label)", String(remaining)))
            headers.append(("x-ratelimit-reset-\(label)", formatReset(reset)))
        }
        return headers
    }

    /// OpenAI's duration spelling: `20ms`, `6s`, `1m30s`.
    static func formatReset(_ seconds: Double) -> String {
        if seconds <= 0 { return "0s" }
        if seconds < 1 { return "\(Int((seconds * 1000).rounded(.up)))ms" }
        let s = Int(seconds.rounded(.up))
        return s < 60 ? "\(s)s" : "\(s / 60)m\(s % 60)s"
    }
}
