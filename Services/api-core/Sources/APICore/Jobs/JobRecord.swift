import BulkheadStorage
import Shared

/// One job as api-core keeps it.
struct JobRecord: Sendable, Equatable {
    var id: String
    var tenant: String
    var subject: String
    var subjectKind: Principal.Kind
    var plan: String
    var kind: AIJobKind
    var model: String
    var priority: Int
    var status: AIJobStatus
    /// Canonical JSON texts.
    var input: String
    var parameters: String
    var metadata: String
    var result: String?
    var usage: TokenUsage?
    var costMicroUSD: Int64?
    var savedCostMicroUSD: Int64?
    var cache: String?
    var error: ErrorBody.Detail?
    var worker: String?
    var cancelRequested: Bool
    var createdAt: Int64
    var timing: AIJobTiming

    init(row: SQLiteRow) {
        id = row.string("id") ?? ""
        tenant = row.string("tenant") ?? ""
        subject = row.string("subject") ?? ""
        subjectKind = Principal.Kind(rawValue: row.string("subject_kind") ?? "") ?? .user
        plan = row.string("plan") ?? ""
        kind = AIJobKind(rawValue: row.string("kind") ?? "") ?? .chat
        model = row.string("model") ?? ""
        priority = row.int("priority") ?? 0
        status = AIJobStatus(rawValue: row.string("status") ?? "") ?? .queued
        input = row.string("input") ?? "{}"
        parameters = row.string("parameters") ?? "{}"
        metadata = row.string("metadata") ?? "{}"
        result = row.string("result")
        if let p = row.int("prompt_tokens"), let c = row.int("completion_tokens") {
            var u = TokenUsage(promptTokens: p, completionTokens: c, cachedPromptTokens: row.int("cached_prompt_tokens") ?? 0,
                estimated: row.bool("usage_estimated") ?? false)
            if let t = row.int("total_tokens") { u.totalTokens = t }
            usage = u
        }
        costMicroUSD = row.int64("cost_micro_usd")
        savedCostMicroUSD = row.int64("saved_cost_micro_usd")
        cache = row.string("cache")
        if let code = row.string("error_code") { error = ErrorBody.Detail(code: code, message: row.string("error_message") ?? "") }
        worker = row.string("worker")
        cancelRequested = row.int64("cancel_requested_at") != nil
        createdAt = row.int64("created_at") ?? 0
        timing = AIJobTiming(
            queuedAt: row.int64("queued_at"), startedAt: row.int64("started_at"), firstTokenAt: row.int64("first_token_at"),
            completedAt: row.int64("completed_at"))
    }

    /// Relative links clients follow.
    var links: JSONValue {
        .object([
            "self": .string("/v1/jobs/\(id)"), "events": .string("/v1/jobs/\(id)/events"), "cancel": .string("/v1/jobs/\(id)/cancel"),
            "stream": .string("/v1/stream"),
        ])
    }

    /// The short form `POST /v1/jobs` answers with.
    var acceptedRepresentation: JSONValue {
        .object(["id": .string(id), "status": .string(status.rawValue), "created_at": .string(Timestamps.rfc3339(createdAt)), "links": links])
    }

    /// The full public form; `includeInput` for `GET /v1/jobs/{id}` (lists leave it out).
    func representation(includeInput: Bool) -> JSONValue {
        func time(_ ms: Int64?) -> JSONValue { ms.map { .string(Timestamps.rfc3339($0)) } ?? .null }
        var o: [String: JSONValue] = [
            "id": .string(id), "object": .string("job"), "kind": .string(kind.rawValue), "model": .string(model),
            "status": .string(status.rawValue), "priority": .number(Double(priority)),
            "metadata": JSONInput.parse(metadata) ?? .object([:]), "parameters": JSONInput.parse(parameters) ?? .object([:]),
            "result": JSONInput.parse(result) ?? .null,
            "usage": usage.map { u in
                .object([
                    "prompt_tokens": .number(Double(u.promptTokens)), "completion_tokens": .number(Double(u.completionTokens)),
                    "total_tokens": .number(Double(u.totalTokens)), "cached_prompt_tokens": .number(Double(u.cachedPromptTokens)),
                    "estimated": .bool(u.estimated),
                ])
            } ?? .null,
            "cost_micro_usd": costMicroUSD.map { .number(Double($0)) } ?? .null,
            "saved_cost_micro_usd": savedCostMicroUSD.map { .number(Double($0)) } ?? .null,
            "cache": cache.map { .string($0) } ?? .null,
            "error": error.map { .object(["code": .string($0.code), "message": .string($0.message)]) } ?? .null,
            "worker": worker.map { .string($0) } ?? .null,
            "cancel_requested": .bool(cancelRequested),
            "created_at": .string(Timestamps.rfc3339(createdAt)),
            "timing": .object([
                "queued_at": time(timing.queuedAt), "started_at": time(timing.startedAt), "first_token_at": time(timing.firstTokenAt),
                "completed_at": time(timing.completedAt),
            ]),
            "links": links,
        ]
        if includeInput { o["input"] = JSONInput.parse(input) ?? .null }
        return .object(o)
    }

    /// The event data a terminal job's record stands for (used when its stream has expired).
    var terminalEventData: AIJobEventData {
        AIJobEventData(
            jobID: id, status: status, result: JSONInput.parse(result), usage: usage, costMicroUSD: costMicroUSD,
            savedCostMicroUSD: savedCostMicroUSD, cache: cache, error: error, timing: timing)
    }
}
