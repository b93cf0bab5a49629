import BulkheadCrypto
import BulkheadHTTP
import BulkheadService
import Foundation
import Shared

extension APICoreAPI {
    /// `POST /v1/jobs`, `GET /v1/jobs`, `GET /v1/jobs/{id}`, `POST /v1/jobs/{id}/cancel`.
    func registerJobRoutes(into router: inout Router) {
        router.post("/v1/jobs", bodyLimit: JobRequest.bodyLimit) { [self] request, context in
            try await submit(request, context)
        }
        router.get("/v1/jobs") { [self] request, context in
            let p = try Access.require(context, scope: "jobs:read")
            let q = request.queryParameters
            var status: AIJobStatus?
            if let s = q["status"] {
                guard let parsed = AIJobStatus(rawValue: s) else {
                    throw HTTPError.badRequest(
                        "'status' must be one of \(AIJobStatus.allCases.map(\.rawValue).joined(separator: ", ")).", code: "invalid_parameter")
                }
                status = parsed
            }
            var limit = 20
            if let l = q["limit"] {
                guard let n = Int(l), (1...100).contains(n) else {
                    throw HTTPError.badRequest("'limit' must be an integer from 1 to 100.", code: "invalid_parameter")
                }
                limit = n
            }
            var after: (Int64, String)?
            if let c = q["cursor"], !c.isEmpty {
                guard let position = Self.decodeCursor(c) else {
                    throw HTTPError.badRequest("'cursor' is not a cursor this API returned.", code: "invalid_cursor")
                }
                after = position
            }
            let (tenant, filter, position, pageSize) = (p.tenant, status, after, limit)
            let page = try await BlockingWork.run { [jobs] in
                try jobs.list(tenant: tenant, status: filter, after: position.map { (createdAt: $0.0, id: $0.1) }, limit: pageSize + 1)
            }
            let items = Array(page.prefix(limit))
            let next: JSONValue = page.count > limit ? items.last.map { .string(Self.encodeCursor($0.createdAt, $0.id)) } ?? .null : .null
            return JSONInput.response(.object([
                "object": .string("list"), "data": .array(items.map { $0.representation(includeInput: false) }), "next_cursor": next,
            ]))
        }
        router.get("/v1/jobs/{id}") { [self] _, context in
            let p = try Access.require(context, scope: "jobs:read")
            let job = try await job(try context.parameter("id"), tenant: p.tenant)
            return JSONInput.response(job.representation(includeInput: true))
        }
        router.post("/v1/jobs/{id}/cancel", bodyLimit: 1024) { [self] _, context in
            try await cancel(try context.parameter("id"), context)
        }
    }

    /// Stores the job, then appends `status: queued` to its stream and sends it to the work
    /// queue concurrently: one SQLite transaction plus two broker writes, whatever the AI load
    /// (the work itself happens in a worker).
    func submit(_ request: HTTPRequest, _ context: RequestContext) async throws -> HTTPResponse {
        let p = try Access.require(context, scope: "jobs:write")
        let job = try JobRequest(body: request.body)
        let idempotency = try Self.idempotencyKey(request).map { key in (key: key, bodyHash: Hex.encode(SHA256.hash(JSONInput.encode(job)))) }
        try await checkModel(job)
        let plan = try await plans.plan(tenant: p.tenant, traceparent: context.trace.traceparentValue)
        let now = Timestamps.nowMillis()
        let today = Timestamps.day(now)
        let tenant = p.tenant
        let spent = try await BlockingWork.run { [usage] in try usage.cost(tenant: tenant, day: today) }
        if spent >= plan.aiBudgetMicroUsdPerDay && idempotency == nil {
            metrics.rejected.labels("daily_budget_exhausted").inc()
            throw HTTPError(
                .tooManyRequests, code: "daily_budget_exhausted",
                message: "The daily AI budget of plan '\(plan.name)' is used up: \(spent) of \(plan.aiBudgetMicroUsdPerDay) µ$ spent on \(today) (UTC). It resets at midnight UTC.",
                headers: ["Retry-After": String(Timestamps.secondsToNextUTCMidnight(now))])
        }
        let newJob = JobStore.NewJob(
            id: "job_" + Hex.encode(SecureRandom.bytes(count: 12)), tenant: p.tenant, subject: p.subject, subjectKind: p.kind, plan: plan.name,
            request: job, now: now)
        let outcome = try await BlockingWork.run { [jobs] in
            try jobs.submit(newJob, idempotency: idempotency, maxConcurrent: plan.maxConcurrentJobs)
        }
        switch outcome {
        case .replay(let existing):
            return JSONInput.response(existing.acceptedRepresentation, headers: ["Location": "/v1/jobs/\(existing.id)", "Idempotent-Replayed": "true"])
        case .keyReused:
            throw HTTPError(
                .conflict, code: "idempotency_key_reused",
                message: "This Idempotency-Key was used in the last 24 hours with a different body; use a new key for a new job.")
        case .concurrencyLimit(let active):
            if spent >= plan.aiBudgetMicroUsdPerDay { throw budgetError(plan: plan, spent: spent, today: today, now: now) }
            metrics.rejected.labels("concurrent_jobs_limit").inc()
            throw HTTPError(
                .tooManyRequests, code: "concurrent_jobs_limit",
                message: "Plan '\(plan.name)' allows \(plan.maxConcurrentJobs) queued or running jobs at once; this tenant has \(active). Retry when one finishes.",
                headers: ["Retry-After": "5"])
        case .created(let record):
            if spent >= plan.aiBudgetMicroUsdPerDay {
                // An idempotent submit reached here only to look for a replay.
                try? await BlockingWork.run { [jobs] in try jobs.remove(id: record.id, tenant: record.tenant) }
                throw budgetError(plan: plan, spent: spent, today: today, now: now)
            }
            try await enqueue(record, job, context)
            metrics.submitted.labels(record.kind.rawValue).inc()
            return JSONInput.response(record.acceptedRepresentation, status: .accepted, headers: ["Location": "/v1/jobs/\(record.id)"])
        }
    }

    /// Refuses a model the gateway's catalog does not have (422 `model_not_found`, naming the
    /// models it has) or one that serves the other kind of job (422 `model_kind_mismatch`). Uses
    /// the cached list: no network round trip unless the name is missing from it; with no usable
    /// list (no `GATEWAY_URL`, gateway away) the job is accepted.
    private func checkModel(_ job: JobRequest) async throws {
        guard let models else { return }
        let wanted = job.kind == .chat ? "chat" : "embeddings"
        switch await models.check(job.model, kind: wanted) {
        case .known, .unverified:
            return
        case .unknown(let available):
            throw HTTPError(
                .unprocessableContent, code: "model_not_found",
                message: "The model '\(job.model)' does not exist; available: \(Self.listed(available)).")
        case .wrongKind(let served, let suitable):
            throw HTTPError(
                .unprocessableContent, code: "model_kind_mismatch",
                message: "The model '\(job.model)' serves \(served), not \(wanted); a \(job.kind.rawValue) job needs one of: \(Self.listed(suitable)).")
        }
    }

    /// Up to 20 names, then how many there are.
    private static func listed(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.prefix(20).joined(separator: ", ") + (names.count > 20 ? ", … (\(names.count) in all)" : "")
    }

    private func budgetError(plan: PlanGate.Plan, spent: Int64, today: String, now: Int64) -> HTTPError {
        metrics.rejected.labels("daily_budget_exhausted").inc()
        return HTTPError(
            .tooManyRequests, code: "daily_budget_exhausted",
            message: "The daily AI budget of plan '\(plan.name)' is used up: \(spent) of \(plan.aiBudgetMicroUsdPerDay) µ$ spent on \(today) (UTC). It resets at midnight UTC.",
            headers: ["Retry-After": String(Timestamps.secondsToNextUTCMidnight(now))])
    }

    /// Appends `queued` and sends the message at the same time. The send decides: if it fails
    /// the job is removed and the client told to retry; a failed append only costs live readers
    /// the `queued` event.
    private func enqueue(_ record: JobRecord, _ job: JobRequest, _ context: RequestContext) async throws {
        let message = AIJobMessage(
            jobID: record.id, tenant: record.tenant, subject: record.subject, subjectKind: record.subjectKind, plan: record.plan,
            kind: job.kind, model: job.model, input: job.input, parameters: job.parameters, queuedAt: record.createdAt)
        let queued = AIJobEventData(jobID: record.id, status: .queued, timing: AIJobTiming(queuedAt: record.createdAt))
        let traceparent = context.trace.traceparentValue
        let broker = submitBroker
        async let appended: Void = broker.append(
            AIJobContract.streamKey(record.id), [(AIJobEventType.status.rawValue, JSONInput.encode(queued))], traceparent: traceparent)
        do {
            try await broker.send(
                AIJobContract.jobQueue, body: JSONInput.encode(message), priority: job.priority, tenant: record.tenant,
                idempotencyKey: record.id, traceparent: traceparent)
        } catch {
            _ = try? await appended
            context.logger.error("job could not be queued", ["job_id": .string(record.id), "error": .string(String(describing: error))])
            try? await BlockingWork.run { [jobs] in try jobs.remove(id: record.id, tenant: record.tenant) }
            metrics.rejected.labels("queue_unavailable").inc()
            throw HTTPError(
                .serviceUnavailable, code: "queue_unavailable", message: "The job queue is unavailable; nothing was queued, retry shortly.",
                headers: ["Retry-After": "2"])
        }
        do { try await appended } catch {
            context.logger.warning("queued event not appended", ["job_id": .string(record.id), "error": .string(String(describing: error))])
        }
    }

    /// Queued: cancelled at once (record, then `cancel_requested` + `cancelled` on the stream so a
    /// worker that already holds the message skips it). Running: `cancel_requested` on the stream;
    /// the worker's `cancelled` update ends it. Finished: 409 `job_finished`.
    func cancel(_ id: String, _ context: RequestContext) async throws -> HTTPResponse {
        let p = try Access.require(context, scope: "jobs:write")
        _ = try await job(id, tenant: p.tenant)
        let now = Timestamps.nowMillis()
        let tenant = p.tenant
        guard let (before, after) = try await BlockingWork.run({ [jobs] in try jobs.cancel(id: id, tenant: tenant, now: now) }) else {
            throw HTTPError(.notFound, code: "job_not_found", message: "No job with id '\(id)'.")
        }
        let stream = AIJobContract.streamKey(id)
        let request = AIJobEventData(jobID: id)
        switch before {
        case .queued:
            let cancelled = AIJobEventData(
                jobID: id, status: .cancelled, error: after.error, timing: AIJobTiming(queuedAt: after.timing.queuedAt, completedAt: now))
            try await appendOrFail(stream, [
                (AIJobEventType.cancelRequested.rawValue, JSONInput.encode(request)), (AIJobEventType.cancelled.rawValue, JSONInput.encode(cancelled)),
            ], context)
            metrics.finished.labels("cancelled").inc()
            return JSONInput.response(after.representation(includeInput: false))
        case .running:
            try await appendOrFail(stream, [(AIJobEventType.cancelRequested.rawValue, JSONInput.encode(request))], context)
            return JSONInput.response(after.representation(includeInput: false), status: .accepted)
        default:
            throw HTTPError(.conflict, code: "job_finished", message: "Job '\(id)' already finished with status '\(before.rawValue)'.")
        }
    }

    private func appendOrFail(_ stream: String, _ events: [(type: String, data: [UInt8])], _ context: RequestContext) async throws {
        do { try await submitBroker.append(stream, events, traceparent: context.trace.traceparentValue) } catch {
            context.logger.error("cancel event not appended", ["stream": .string(stream), "error": .string(String(describing: error))])
            throw HTTPError(
                .serviceUnavailable, code: "queue_unavailable", message: "The cancel could not reach the job's worker; retry shortly.",
                headers: ["Retry-After": "2"])
        }
    }

    /// The `Idempotency-Key` header: 1–255 printable ASCII characters.
    static func idempotencyKey(_ request: HTTPRequest) throws(HTTPError) -> String? {
        guard let key = request.headers.first("idempotency-key") else { return nil }
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ $0 >= 0x21 && $0 < 0x7F }) else {
            throw HTTPError.badRequest("Idempotency-Key must be 1–255 printable ASCII characters without spaces.", code: "invalid_idempotency_key")
        }
        return key
    }

    /// Opaque cursors: base64url of `<created_at>:<id>` of the last job of a page.
    static func encodeCursor(_ createdAt: Int64, _ id: String) -> String { Base64URL.encode("\(createdAt):\(id)") }

    static func decodeCursor(_ cursor: String) -> (Int64, String)? {
        guard cursor.utf8.count <= 200, let bytes = Base64URL.decode(cursor), let text = String(validating: bytes, as: UTF8.self) else { return nil }
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let t = Int64(parts[0]), plausibleJobID(String(parts[1])) else { return nil }
        return (t, String(parts[1]))
    }
}
