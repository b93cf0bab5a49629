/// The contract between api-core (which accepts AI jobs) and inference-gateway workers (which run
/// them), carried over queue-broker. Both sides use these names and types; neither calls the other.
///
/// Flow:
/// 1. api-core stores the job, appends a `status` event (`queued`) to the job's stream
///    (`AIJobContract.streamKey(jobID)`) and sends an `AIJobMessage` to `AIJobContract.jobQueue`
///    (tenant = the job's tenant for fairness, priority = the job's priority, idempotency key = job id).
/// 2. A worker receives it, reads the job's stream from the start: if it holds `cancel_requested`
///    the worker acks without running. Otherwise it appends `status` (`running`), then `delta`
///    events as tokens arrive, then exactly one terminal event (`completed`, `failed` or
///    `cancelled`), and acks. While running it long-polls the stream for `cancel_requested`
///    and stops the inference when one arrives. Retryable failures are nacked (no terminal event)
///    until the message's last allowed receive.
/// 3. Every status change (running and terminal) is also sent as an `AIJobUpdate` to
///    `AIJobContract.updateQueue`; api-core consumes that queue to keep its job records
///    (idempotently: a terminal status is never overwritten, `running` never replaces a terminal one).
public enum AIJobContract {
    /// Work queue of `AIJobMessage` bodies.
    public static let jobQueue = "ai-jobs"
    /// Queue of `AIJobUpdate` bodies, consumed by api-core.
    public static let updateQueue = "ai-job-updates"
    /// Queue of `UsageRecord` bodies (every gateway call, jobs included), consumed by api-core.
    public static let usageQueue = "usage-records"
    /// Settings both sides `PUT` at start (idempotent): a lease of 60 s that workers extend,
    /// three receives before dead letters.
    public static let jobQueueSettings: [String: Int] = [
        "visibility_timeout_seconds": 60, "max_receives": 3, "nack_backoff_base_seconds": 1, "nack_backoff_max_seconds": 30,
    ]

    /// The stream of a job's events: `job.<id>`.
    public static func streamKey(_ jobID: String) -> String { "job.\(jobID)" }
}

/// The kinds of AI job.
public enum AIJobKind: String, Codable, Sendable, CaseIterable {
    /// A chat completion; `input` is `{"messages":[...]}` (OpenAI shape).
    case chat
    /// Embeddings; `input` is `{"input": string | [string]}` (OpenAI shape).
    case embedding
}

/// A job's lifecycle. `queued → running → completed | failed | cancelled`; `queued → cancelled`.
public enum AIJobStatus: String, Codable, Sendable, CaseIterable {
    case queued, running, completed, failed, cancelled

    public var isTerminal: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// The body of a message on `AIJobContract.jobQueue`.
public struct AIJobMessage: Codable, Sendable, Equatable {
    public var jobID: String
    public var tenant: String
    /// The user id or API key id that submitted the job (usage is recorded against it).
    public var subject: String
    public var subjectKind: Principal.Kind
    public var plan: String
    public var kind: AIJobKind
    /// Public model name from the gateway's catalog.
    public var model: String
    /// `{"messages":[...]}` for chat, `{"input":...}` for embeddings.
    public var input: JSONValue
    /// Extra OpenAI request fields (`temperature`, `max_tokens`, `top_p`, `stop`, `seed`, ...).
    public var parameters: [String: JSONValue]
    /// Milliseconds since 1970 when api-core accepted the job.
    public var queuedAt: Int64

    public init(
        jobID: String, tenant: String, subject: String, subjectKind: Principal.Kind, plan: String, kind: AIJobKind,
        model: String, input: JSONValue, parameters: [String: JSONValue], queuedAt: Int64
    ) {
        self.jobID = jobID; self.tenant = tenant; self.subject = subject; self.subjectKind = subjectKind
        self.plan = plan; self.kind = kind; self.model = model; self.input = input
        self.parameters = parameters; self.queuedAt = queuedAt
    }

    enum CodingKeys: String, CodingKey {
        case jobID = "job_id", tenant, subject, subjectKind = "subject_kind", plan, kind, model, input, parameters
        case queuedAt = "queued_at"
    }
}
