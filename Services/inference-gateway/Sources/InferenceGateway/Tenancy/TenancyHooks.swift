import BulkheadObservability
import Shared

/// The tenancy layer's `InferenceHooks`: limits and budgets at admission, the semantic cache,
/// and (through each ticket) reconciliation, usage records and AI metrics.
struct TenancyHooks: InferenceHooks {
    let limiter: TenantLimiter
    let cache: SemanticCache?
    let usage: UsageRecorder
    let metrics: TenancyMetrics
    let pending: PendingWork
    let logger: Logger

    func admit(_ call: InferenceCall) async throws -> any InferenceTicket {
        let reservation = try await limiter.admit(call)
        return TenancyTicket(call: call, reservation: reservation, hooks: self)
    }

    func lookup(_ call: InferenceCall) async -> CachedAnswer? {
        guard call.cacheable, let cache else { return nil }
        return await cache.lookup(call)
    }
}
