import Foundation
import Shared
import Synchronization

/// One admitted call: charges long streams as they go, and at `finish` reconciles the
/// reservation (off the response path), records usage and metrics and stores the answer.
final class TenancyTicket: InferenceTicket {
    private struct State {
        var finished = false
        /// Tokens and cost charged to the limits so far (the reservation, then progress charges).
        var chargedTokens: Int
        var chargedCost: Int
        /// Output tokens already counted in the metrics (progress reports them as they come).
        var countedOutputTokens = 0
        var lastCharge: ContinuousClock.Instant
    }

    /// Least time between two progress charges of one stream (bounds counter calls per stream).
    static let progressChargeInterval: Duration = .seconds(1)

    let call: InferenceCall
    let reservation: LimitReservation?
    let hooks: TenancyHooks
    private let state: Mutex<State>

    init(call: InferenceCall, reservation: LimitReservation?, hooks: TenancyHooks) {
        self.call = call
        self.reservation = reservation
        self.hooks = hooks
        state = Mutex(State(chargedTokens: reservation?.tokens ?? 0, chargedCost: reservation?.cost ?? 0, lastCharge: .now))
    }

    var responseHeaders: [(String, String)] { reservation?.headers ?? [] }

    func progress(completionTokens: Int, costMicroUSD: Int64) async {
        let now = ContinuousClock.now
        let promptTokens = call.estimatedPromptTokens
        let (newOutput, charge) = state.withLock { s -> (Int, (tokens: Int, cost: Int)?) in
            if s.finished { return (0, nil) }
            let newOutput = max(0, completionTokens - s.countedOutputTokens)
            s.countedOutputTokens = max(s.countedOutputTokens, completionTokens)
            // Charge only what runs past what is already charged, at most once per interval.
            let tokens = promptTokens + completionTokens - s.chargedTokens
            let cost = Int(costMicroUSD) - s.chargedCost
            guard reservation != nil, tokens > 0 || cost > 0, now - s.lastCharge >= Self.progressChargeInterval else { return (newOutput, nil) }
            s.lastCharge = now
            s.chargedTokens += max(0, tokens)
            s.chargedCost += max(0, cost)
            return (newOutput, (max(0, tokens), max(0, cost)))
        }
        if newOutput > 0 {
            hooks.metrics.outputTokens.labels(call.model).inc(by: newOutput)
            hooks.metrics.tokenRate.add(newOutput, model: call.model)
        }
        if let charge, let reservation {
            hooks.limiter.adjustSoon(reservation.adjustments(tokens: charge.tokens, cost: charge.cost, release: false), on: reservation.store, pending: hooks.pending)
        }
    }

    func finish(_ outcome: InferenceOutcome) async {
        let isHit = outcome.cache != nil
        // A cache hit used no compute: it is charged nothing (the request itself still counted).
        let actualTokens = isHit ? 0 : outcome.usage.totalTokens
        let actualCost = isHit ? 0 : Int(max(0, outcome.costMicroUSD))
        let completion = isHit ? 0 : outcome.usage.completionTokens
        let deltas = state.withLock { s -> (tokens: Int, cost: Int, output: Int)? in
            if s.finished { return nil }
            s.finished = true
            let output = max(0, completion - s.countedOutputTokens)
            s.countedOutputTokens = max(s.countedOutputTokens, completion)
            return (actualTokens - s.chargedTokens, actualCost - s.chargedCost, output)
        }
        guard let deltas else { return }
        let metrics = hooks.metrics
        let principal = call.caller.principal
        let tenantLabel = SemanticCache.tenant(of: principal)

        if let reservation {
            hooks.limiter.adjustSoon(reservation.adjustments(tokens: deltas.tokens, cost: deltas.cost, release: true), on: reservation.store, pending: hooks.pending)
        }
        if deltas.output > 0 {
            metrics.outputTokens.labels(call.model).inc(by: deltas.output)
            metrics.tokenRate.add(deltas.output, model: call.model)
        }
        if actualCost > 0 { metrics.cost.labels(tenantLabel, call.model).inc(by: actualCost) }
        if let hit = outcome.cache, hit.savedCostMicroUSD > 0 {
            metrics.savedCost.labels(tenantLabel, call.model).inc(by: Int(hit.savedCostMicroUSD))
        }

        // Calls with no tenant (services' own, anonymous in development) are nobody's usage.
        if !principal.tenant.isEmpty { hooks.usage.record(UsageRecord(
            id: call.caller.requestID, tenant: principal.tenant, subject: principal.subject, subjectKind: principal.kind,
            model: call.model, deployment: outcome.deployment,
            usage: outcome.usage,
            costMicroUSD: Int64(actualCost), savedCostMicroUSD: outcome.cache?.savedCostMicroUSD ?? 0,
            cache: outcome.cache?.kind, jobID: call.caller.jobID, at: Int64(Date().timeIntervalSince1970 * 1000))) }

        if let cache = hooks.cache, call.cacheable {
            if !isHit, outcome.errorType == nil, outcome.response != nil {
                let call = self.call
                hooks.pending.run { await cache.store(call, outcome: outcome) }
            } else {
                cache.forget(call)
            }
        }
    }
}
