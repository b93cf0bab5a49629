import Shared

/// Who a gateway call is for and where it came from.
public struct Caller: Sendable {
    public var principal: Principal
    /// The HTTP request id, or `job:<id>` for a job.
    public var requestID: String
    public var jobID: String?
    /// The caller's `traceparent`, passed on to providers.
    public var traceparent: String?

    public init(principal: Principal, requestID: String, jobID: String? = nil, traceparent: String? = nil) {
        self.principal = principal; self.requestID = requestID; self.jobID = jobID; self.traceparent = traceparent
    }
}

/// What the core tells the tenancy layer about a call before it goes to a provider.
/// Built by the core (it knows the catalog and prices), read by `InferenceHooks`.
public struct InferenceCall: Sendable {
    public enum Kind: String, Sendable { case chat, embeddings }

    public var caller: Caller
    public var kind: Kind
    /// The public model name asked for.
    public var model: String
    public var stream: Bool
    /// Prompt tokens as counted locally before the call.
    public var estimatedPromptTokens: Int
    /// `max_tokens` / `max_completion_tokens`, or the deployment's default cap.
    public var maxCompletionTokens: Int
    /// Worst-case cost to reserve: estimated prompt × input price + max completion × output
    /// price, at the dearest deployment the call may be routed to.
    public var reserveCostMicroUSD: Int64
    /// Whether the answer may come from / go to the semantic cache (the core decides:
    /// temperature ≤ threshold, no tools, no bypass header or parameter).
    public var cacheable: Bool
    /// Cache namespace (model + every parameter that changes an answer but the messages), URL-safe.
    public var cacheNamespace: String
    /// SHA-256 hex over every parameter that changes the answer, messages included.
    public var exactKey: String
    /// The conversation's text for the semantic lookup.
    public var semanticText: String

    public init(
        caller: Caller, kind: Kind, model: String, stream: Bool, estimatedPromptTokens: Int, maxCompletionTokens: Int,
        reserveCostMicroUSD: Int64, cacheable: Bool, cacheNamespace: String, exactKey: String, semanticText: String
    ) {
        self.caller = caller; self.kind = kind; self.model = model; self.stream = stream
        self.estimatedPromptTokens = estimatedPromptTokens; self.maxCompletionTokens = maxCompletionTokens
        self.reserveCostMicroUSD = reserveCostMicroUSD; self.cacheable = cacheable; self.cacheNamespace = cacheNamespace
        self.exactKey = exactKey; self.semanticText = semanticText
    }
}

/// An answer found in the cache. The core serves `response` (an OpenAI `chat.completion`
/// object) as JSON or, when a stream was asked for, as chunks.
public struct CachedAnswer: Sendable {
    /// `hit-exact` or `hit-semantic` (the `x-cache` header value).
    public var kind: String
    public var similarity: Double
    public var response: JSONValue
    /// Usage and cost of the original call.
    public var usage: TokenUsage?
    public var savedCostMicroUSD: Int64

    public init(kind: String, similarity: Double, response: JSONValue, usage: TokenUsage?, savedCostMicroUSD: Int64) {
        self.kind = kind; self.similarity = similarity; self.response = response; self.usage = usage
        self.savedCostMicroUSD = savedCostMicroUSD
    }
}

/// How a call ended, reported once to its ticket.
public struct InferenceOutcome: Sendable {
    /// The deployment that answered ("" for cache hits and failures before any provider).
    public var deployment: String
    public var usage: TokenUsage
    public var costMicroUSD: Int64
    /// Set for cache hits.
    public var cache: CachedAnswer?
    /// The full OpenAI response object of a successful, non-cached call (to store in the cache).
    public var response: JSONValue?
    /// nil on success; the OpenAI error `code`/`type` otherwise.
    public var errorType: String?
    public var timeToFirstToken: Duration?
    public var duration: Duration

    public init(
        deployment: String, usage: TokenUsage, costMicroUSD: Int64, cache: CachedAnswer? = nil, response: JSONValue? = nil,
        errorType: String? = nil, timeToFirstToken: Duration? = nil, duration: Duration
    ) {
        self.deployment = deployment; self.usage = usage; self.costMicroUSD = costMicroUSD; self.cache = cache
        self.response = response; self.errorType = errorType; self.timeToFirstToken = timeToFirstToken; self.duration = duration
    }
}
