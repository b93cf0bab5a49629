/// One AI call's usage and cost, sent by the gateway to `AIJobContract.usageQueue` (batched) for
/// every call it answers (cache hits included, with `cost_micro_usd` 0 and the saved cost set);
/// api-core keeps them for `GET /v1/usage`. `id` makes redelivery harmless (at-least-once queue).
public struct UsageRecord: Codable, Sendable, Equatable {
    /// Unique per call (the gateway's request id, or `job:<job id>` for jobs).
    public var id: String
    public var tenant: String
    /// User id or API key id.
    public var subject: String
    public var subjectKind: Principal.Kind
    /// Public model name.
    public var model: String
    /// The deployment that answered (empty for cache hits).
    public var deployment: String
    public var usage: TokenUsage
    public var costMicroUSD: Int64
    public var savedCostMicroUSD: Int64
    /// `hit-exact`, `hit-semantic` or nil.
    public var cache: String?
    public var jobID: String?
    /// Milliseconds since 1970 when the call finished.
    public var at: Int64

    public init(
        id: String, tenant: String, subject: String, subjectKind: Principal.Kind, model: String, deployment: String,
        usage: TokenUsage, costMicroUSD: Int64, savedCostMicroUSD: Int64 = 0, cache: String? = nil, jobID: String? = nil, at: Int64
    ) {
        self.id = id; self.tenant = tenant; self.subject = subject; self.subjectKind = subjectKind; self.model = model
        self.deployment = deployment; self.usage = usage; self.costMicroUSD = costMicroUSD
        self.savedCostMicroUSD = savedCostMicroUSD; self.cache = cache; self.jobID = jobID; self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case id, tenant, subject, subjectKind = "subject_kind", model, deployment, usage, costMicroUSD = "cost_micro_usd"
        case savedCostMicroUSD = "saved_cost_micro_usd", cache, jobID = "job_id", at
    }
}
