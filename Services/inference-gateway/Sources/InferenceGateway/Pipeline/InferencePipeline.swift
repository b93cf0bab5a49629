import Shared

/// The result of a call run through the pipeline without HTTP (the job worker's way in).
public struct PipelineResult: Sendable {
    /// The OpenAI response object (`chat.completion` or the embeddings `list`).
    public var response: JSONValue
    public var usage: TokenUsage
    public var costMicroUSD: Int64
    public var savedCostMicroUSD: Int64
    /// `hit-exact`, `hit-semantic` or nil.
    public var cache: String?
    public var deployment: String
    /// Milliseconds since 1970 of the first token (chat), nil otherwise.
    public var firstTokenAt: Int64?

    public init(
        response: JSONValue, usage: TokenUsage, costMicroUSD: Int64, savedCostMicroUSD: Int64 = 0, cache: String? = nil,
        deployment: String, firstTokenAt: Int64? = nil
    ) {
        self.response = response; self.usage = usage; self.costMicroUSD = costMicroUSD
        self.savedCostMicroUSD = savedCostMicroUSD; self.cache = cache; self.deployment = deployment; self.firstTokenAt = firstTokenAt
    }
}

/// The same path the HTTP routes take (validation, hooks, cache, routing, retries, fallbacks,
/// providers, cost), callable in-process. Implemented by the core; used by the job worker.
/// Errors are `GatewayError`s (`retryable` says whether a worker should nack).
/// Cancelling the calling task cancels the upstream call.
public protocol InferencePipeline: Sendable {
    /// Runs a chat completion. `request` is an OpenAI chat request body (`model`, `messages`,
    /// parameters; `stream` is ignored). `onDelta` receives each piece of text as it arrives.
    func chat(_ request: JSONValue, caller: Caller, onDelta: @escaping @Sendable (String) async -> Void) async throws -> PipelineResult
    /// Runs an embeddings request (OpenAI body).
    func embeddings(_ request: JSONValue, caller: Caller) async throws -> PipelineResult
}
