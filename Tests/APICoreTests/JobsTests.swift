import BulkheadHTTP
import Foundation
import Shared
import Testing

/// Submitting, reading, listing, idempotency, cancel, tenant isolation, plan limits and bad input.
@Suite("api-core jobs")
struct JobsTests {
    @Test func submitReadListAndPaginate() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let r = try await s.submit(a)
            #expect(r.status == 202)
            let id = try #require(r.json["id"]?.stringValue)
            #expect(r.json["status"]?.stringValue == "queued")
            #expect(r.header("location") == "/v1/jobs/\(id)")
            #expect(r.json["links"]?["events"]?.stringValue == "/v1/jobs/\(id)/events")
            #expect(r.json["created_at"]?.stringValue?.hasSuffix("Z") == true)

            // The job went to the work queue with the contract's fields, and `queued` to its stream.
            let (message, _) = try await s.receiveJob()
            #expect(message.jobID == id && message.tenant == a.tenant && message.subject == a.userID && message.kind == .chat)
            #expect(message.model == "sim-small" && message.plan == "enterprise" && message.input["messages"]?.arrayValue?.count == 1)
            let stream = try await s.internalCall(.get, s.brokerBase, "/internal/v1/streams/job.\(id)/events")
            #expect(stream.json["events"]?.arrayValue?.first?["type"]?.stringValue == "status")
            #expect(stream.json["events"]?.arrayValue?.first?["data"]?["status"]?.stringValue == "queued")

            let got = try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access)
            #expect(got.status == 200 && got.json["status"]?.stringValue == "queued" && got.json["metadata"]?["team"]?.stringValue == "a")
            #expect(got.json["input"]?["messages"]?.arrayValue?.count == 1 && got.json["priority"]?.doubleValue == 5)

            var ids = [id]
            for _ in 0..<4 { ids.append(try await s.submitted(a)) }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await s.call(.get, "/v1/jobs?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), bearer: a.access)
                #expect(page.status == 200)
                let data = page.json["data"]?.arrayValue ?? []
                #expect(data.count <= 2)
                seen += data.compactMap { $0["id"]?.stringValue }
                cursor = page.json["next_cursor"]?.stringValue
            } while cursor != nil && seen.count < 20
            #expect(seen == ids.reversed(), "newest first, every job exactly once")
            #expect(try await s.call(.get, "/v1/jobs?status=completed", bearer: a.access).json["data"]?.arrayValue?.isEmpty == true)
            #expect(try await s.call(.get, "/v1/jobs?status=done", bearer: a.access).errorCode == "invalid_parameter")
            #expect(try await s.call(.get, "/v1/jobs?limit=0", bearer: a.access).errorCode == "invalid_parameter")
            #expect(try await s.call(.get, "/v1/jobs?cursor=zzz", bearer: a.access).errorCode == "invalid_cursor")
        }
    }

    @Test func idempotencyKeysReturnTheSameJob() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let first = try await s.submit(a, key: "order-42")
            #expect(first.status == 202)
            let again = try await s.submit(a, key: "order-42")
            #expect(again.status == 200 && again.json["id"] == first.json["id"])
            var other = APIStack.chatJob
            other["model"] = "sim-large"
            let reused = try await s.submit(a, other, key: "order-42")
            #expect(reused.status == 409 && reused.errorCode == "idempotency_key_reused")
            // Keys are per tenant.
            let b = try await s.signup()
            let elsewhere = try await s.submit(b, key: "order-42")
            #expect(elsewhere.status == 202 && elsewhere.json["id"] != first.json["id"])
            #expect(try await s.call(.get, "/v1/jobs", bearer: a.access).json["data"]?.arrayValue?.count == 1)
            #expect(try await s.submit(a, key: "has space").errorCode == "invalid_idempotency_key")
        }
    }

    @Test func cancelQueuedAndRunningJobsAndIsolateTenants() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let queued = try await s.submitted(a)
            let cancelled = try await s.call(.post, "/v1/jobs/\(queued)/cancel", bearer: a.access)
            #expect(cancelled.status == 200 && cancelled.json["status"]?.stringValue == "cancelled")
            let stream = try await s.internalCall(.get, s.brokerBase, "/internal/v1/streams/job.\(queued)/events")
            #expect(stream.json["events"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["status", "cancel_requested", "cancelled"])
            let twice = try await s.call(.post, "/v1/jobs/\(queued)/cancel", bearer: a.access)
            #expect(twice.status == 409 && twice.errorCode == "job_finished")

            // A running job is told to stop; it stays running until the worker reports `cancelled`.
            let running = try await s.submitted(a)
            let (message, _) = try await s.receiveJob()
            let (message2, _) = message.jobID == running ? (message, "") : try await s.receiveJob()
            #expect(message2.jobID == running)
            let started = AIJobEventData(jobID: running, status: .running, worker: "w1")
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: started))
            try await eventually("running") { try await s.call(.get, "/v1/jobs/\(running)", bearer: a.access).json["status"]?.stringValue == "running" }
            let asked = try await s.call(.post, "/v1/jobs/\(running)/cancel", bearer: a.access)
            #expect(asked.status == 202 && asked.json["status"]?.stringValue == "running" && asked.json["cancel_requested"] == .bool(true))
            let events = try await s.internalCall(.get, s.brokerBase, "/internal/v1/streams/job.\(running)/events")
            #expect(events.json["events"]?.arrayValue?.last?["type"]?.stringValue == "cancel_requested")
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(jobID: running, status: .cancelled)))
            try await eventually("cancelled") { try await s.call(.get, "/v1/jobs/\(running)", bearer: a.access).json["status"]?.stringValue == "cancelled" }

            // Another tenant sees none of it: 404, never 403.
            let b = try await s.signup()
            for (method, path) in [(HTTPMethod.get, "/v1/jobs/\(queued)"), (.post, "/v1/jobs/\(queued)/cancel"), (.get, "/v1/jobs/\(queued)/events")] {
                let r = try await s.call(method, path, bearer: b.access)
                #expect(r.status == 404 && r.errorCode == "job_not_found", "\(method) \(path)")
            }
            #expect(try await s.call(.get, "/v1/jobs", bearer: b.access).json["data"]?.arrayValue?.isEmpty == true)
            #expect(try await s.call(.get, "/v1/jobs/job_doesnotexist", bearer: a.access).errorCode == "job_not_found")
        }
    }

    @Test func malformedOversizedAndUnauthenticatedRequestsGetClearErrors() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let unauth = try await s.call(.post, "/v1/jobs", json: APIStack.chatJob)
            #expect(unauth.status == 401 && unauth.errorCode == "unauthorized")
            let badToken = try await s.call(.get, "/v1/jobs", bearer: "not.a.jwt")
            #expect(badToken.status == 401 && badToken.errorCode == "invalid_token")
            let notJSON = try await s.call(.post, "/v1/jobs", raw: Array("{\"kind\":".utf8), bearer: a.access)
            #expect(notJSON.status == 400 && notJSON.errorCode == "invalid_json")
            func expect(_ body: [String: Any], _ status: Int, _ code: String, naming field: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let r = try await s.submit(a, body)
                #expect(r.status == status && r.errorCode == code, "\(r.text)", sourceLocation: sourceLocation)
                #expect(r.json["error"]?["message"]?.stringValue?.contains(field) == true, "\(r.text)", sourceLocation: sourceLocation)
            }
            var job = APIStack.chatJob
            job["colour"] = "red"
            try await expect(job, 422, "unknown_field", naming: "colour")
            try await expect(["model": "m", "input": ["messages": []]], 422, "missing_field", naming: "kind")
            try await expect(["kind": "image", "model": "m", "input": [:] as [String: Any]], 422, "invalid_field", naming: "kind")
            try await expect(["kind": "chat", "model": "m", "input": ["messages": [["role": "robot", "content": "x"]]]], 422, "invalid_field", naming: "input.messages[0].role")
            try await expect(["kind": "embedding", "model": "m", "input": ["input": [""]]], 422, "invalid_field", naming: "input.input[0]")
            job = APIStack.chatJob
            job["priority"] = 11
            try await expect(job, 422, "invalid_field", naming: "priority")
            job = APIStack.chatJob
            job["parameters"] = ["stream": true]
            try await expect(job, 422, "invalid_field", naming: "parameters.stream")
            job = APIStack.chatJob
            job["metadata"] = Dictionary(uniqueKeysWithValues: (0..<17).map { ("k\($0)", "v") })
            try await expect(job, 422, "invalid_field", naming: "metadata")
            let many = (0..<300).map { _ in ["role": "user", "content": "x"] }
            try await expect(["kind": "chat", "model": "m", "input": ["messages": many]], 413, "too_many_items", naming: "input.messages")
            let huge = ["kind": "chat", "model": "m", "input": ["messages": [["role": "user", "content": String(repeating: "x", count: 300_000)]]]] as [String: Any]
            let oversized = try await s.submit(a, huge)
            #expect(oversized.status == 413)
            #expect(try await s.call(.get, "/v1/jobs", bearer: a.access).json["data"]?.arrayValue?.isEmpty == true, "nothing was stored")
        }
    }

    @Test func planLimitsAnswer429WithTheNumbers() async throws {
        try await withStack { s in
            // free: one concurrent job.
            let a = try await s.signup(plan: "free")
            _ = try await s.submitted(a)
            let second = try await s.submit(a)
            #expect(second.status == 429 && second.errorCode == "concurrent_jobs_limit" && second.header("retry-after") != nil)
            #expect(second.json["error"]?["message"]?.stringValue?.contains("'free' allows 1") == true, "\(second.text)")

            // A tiny daily budget, spent by a usage record.
            let plan = try await s.internalCall(.put, s.authBase, "/internal/plans/tiny", json: [
                "ai_budget_micro_usd_per_day": 100, "ai_cost_micro_usd_per_minute": 100, "requests_per_minute": 60, "tokens_per_minute": 1000,
                "max_concurrent_jobs": 5,
            ])
            try #require(plan.status == 200 || plan.status == 201, "\(plan.text)")
            let b = try await s.signup(plan: "tiny")
            _ = try await s.submitted(b)
            try await s.sendToQueue(AIJobContract.usageQueue, UsageRecord(
                id: "call-1", tenant: b.tenant, subject: b.userID, subjectKind: .user, model: "sim-small", deployment: "sim",
                usage: TokenUsage(promptTokens: 10, completionTokens: 10), costMicroUSD: 150, at: Int64(Date().timeIntervalSince1970 * 1000)))
            try await eventually("usage recorded") {
                try await s.call(.get, "/v1/usage", bearer: b.access).json["totals"]?["cost_micro_usd"]?.doubleValue == 150
            }
            let refused = try await s.submit(b)
            #expect(refused.status == 429 && refused.errorCode == "daily_budget_exhausted", "\(refused.text)")
            #expect(refused.json["error"]?["message"]?.stringValue?.contains("150 of 100") == true)
            #expect(Int(refused.header("retry-after") ?? "") ?? 0 > 0)
        }
    }
}
