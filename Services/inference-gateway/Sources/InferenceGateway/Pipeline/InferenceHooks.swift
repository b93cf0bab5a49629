/// The seam between the gateway core (routes, catalog, routing, providers) and the tenancy layer
/// (limits, budgets, cache, usage, AI metrics). The core calls, in order, for every call:
/// `admit` → (`lookup` when `call.cacheable`) → provider → `ticket.progress` while a stream
/// runs → `ticket.finish` exactly once (also for cache hits, failures and cancellations).
public protocol InferenceHooks: Sendable {
    /// Checks and reserves the caller's limits (requests, tokens and cost per minute, daily
    /// budget, concurrency). Throws `GatewayError.rateLimited` (429, `Retry-After`,
    /// `x-ratelimit-*`, a message naming the limit) to refuse.
    func admit(_ call: InferenceCall) async throws -> any InferenceTicket
    /// A cached answer inside the caller's tenant and the call's namespace, or nil. Never throws:
    /// a cache failure is a miss.
    func lookup(_ call: InferenceCall) async -> CachedAnswer?
}

/// One admitted call's reservation.
public protocol InferenceTicket: Sendable {
    /// Headers for the response (`x-ratelimit-limit-requests`, `x-ratelimit-remaining-tokens`...).
    var responseHeaders: [(String, String)] { get }
    /// While a stream runs: the output tokens and cost so far, so long streams are charged as they go.
    func progress(completionTokens: Int, costMicroUSD: Int64) async
    /// Reconciles the reservation with what the call really used (refunds on failure), records
    /// usage, stores a cacheable response in the cache. Called exactly once.
    func finish(_ outcome: InferenceOutcome) async
}

/// Hooks that admit everything and cache nothing: the core's default and its tests' choice.
public struct OpenHooks: InferenceHooks {
    public init() {}
    public func admit(_ call: InferenceCall) async throws -> any InferenceTicket { OpenTicket() }
    public func lookup(_ call: InferenceCall) async -> CachedAnswer? { nil }

    struct OpenTicket: InferenceTicket {
        var responseHeaders: [(String, String)] { [] }
        func progress(completionTokens: Int, costMicroUSD: Int64) async {}
        func finish(_ outcome: InferenceOutcome) async {}
    }
}
