/// Event types on a job's stream (`AIJobContract.streamKey`); the stream event's `type` field.
/// Each event's `data` is an `AIJobEventData`.
public enum AIJobEventType: String, Codable, Sendable, CaseIterable {
    /// `status` set (`queued` by api-core, `running` by the worker, with `worker`).
    case status
    /// `delta` set: the next piece of generated text (chat only).
    case delta
    /// Terminal: `result`, `usage`, `cost_micro_usd`, `timing` set.
    case completed
    /// Terminal: `error`, `timing` set.
    case failed
    /// Terminal: the job was cancelled (by api-core while queued, by the worker while running).
    case cancelled
    /// Written by api-core on `POST /v1/jobs/{id}/cancel`; workers watch for it. Not shown to clients.
    case cancelRequested = "cancel_requested"

    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// Milestones of a job, in milliseconds since 1970.
public struct AIJobTiming: Codable, Sendable, Equatable {
    public var queuedAt: Int64?
    public var startedAt: Int64?
    public var firstTokenAt: Int64?
    public var completedAt: Int64?

    public init(queuedAt: Int64? = nil, startedAt: Int64? = nil, firstTokenAt: Int64? = nil, completedAt: Int64? = nil) {
        self.queuedAt = queuedAt; self.startedAt = startedAt; self.firstTokenAt = firstTokenAt; self.completedAt = completedAt
    }

    enum CodingKeys: String, CodingKey {
        case queuedAt = "queued_at", startedAt = "started_at", firstTokenAt = "first_token_at", completedAt = "completed_at"
    }
}

/// The `data` of every job stream event; which fields are set depends on the type.
public struct AIJobEventData: Codable, Sendable, Equatable {
    public var jobID: String
    public var status: AIJobStatus?
    /// Text of a `delta`.
    public var content: String?
    /// Final answer: an OpenAI chat completion or embeddings list object.
    public var result: JSONValue?
    public var usage: TokenUsage?
    public var costMicroUSD: Int64?
    /// Set when the answer came from the semantic cache: what the original call cost.
    public var savedCostMicroUSD: Int64?
    /// `hit-exact`, `hit-semantic` or nil.
    public var cache: String?
    public var error: ErrorBody.Detail?
    public var timing: AIJobTiming?
    /// Which worker ran it (`status: running`).
    public var worker: String?

    public init(
        jobID: String, status: AIJobStatus? = nil, content: String? = nil, result: JSONValue? = nil, usage: TokenUsage? = nil,
        costMicroUSD: Int64? = nil, savedCostMicroUSD: Int64? = nil, cache: String? = nil, error: ErrorBody.Detail? = nil,
        timing: AIJobTiming? = nil, worker: String? = nil
    ) {
        self.jobID = jobID; self.status = status; self.content = content; self.result = result; self.usage = usage
        self.costMicroUSD = costMicroUSD; self.savedCostMicroUSD = savedCostMicroUSD; self.cache = cache
        self.error = error; self.timing = timing; self.worker = worker
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", status, content, result, usage, costMicroUSD = "cost_micro_usd"
        case savedCostMicroUSD = "saved_cost_micro_usd", cache, error, timing, worker
    }
}

/// The body of a message on `AIJobContract.updateQueue`: a job's new status for api-core's records.
public struct AIJobUpdate: Codable, Sendable, Equatable {
    public var tenant: String
    public var data: AIJobEventData

    public init(tenant: String, data: AIJobEventData) { self.tenant = tenant; self.data = data }
}
