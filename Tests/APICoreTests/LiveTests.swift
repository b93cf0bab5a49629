import BulkheadHTTP
import BulkheadTesting
import Foundation
import Shared
import Testing

/// Live results (SSE, WebSocket) from the job's stream, job records from `ai-job-updates`,
/// usage from `usage-records`.
@Suite("api-core live results, records and usage")
struct LiveTests {
    @Test func sseDeliversTheStreamResumesAndRecordsFollowTheUpdates() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let id = try await s.submitted(a)
            let (message, _) = try await s.receiveJob()
            try #require(message.jobID == id)

            // A reader attached before the worker starts gets everything as it happens.
            async let live = s.events(a, id)
            try await Task.sleep(for: .milliseconds(50))
            try await s.completeJob(message, cost: 1234)
            let (status, events) = try await live
            #expect(status == 200)
            #expect(events.map(\.event) == ["status", "status", "delta", "delta", "completed"])
            #expect(events.compactMap(\.id).map { Int($0) ?? 0 } == [1, 2, 3, 4, 5])
            let deltas = events.filter { $0.event == "delta" }.map { (try? JSONDecoder().decode(AIJobEventData.self, from: Data($0.data.utf8)))?.content ?? "" }
            #expect(deltas.joined() == "Hello!")
            let final = try JSONDecoder().decode(AIJobEventData.self, from: Data(try #require(events.last).data.utf8))
            #expect(final.costMicroUSD == 1234 && final.usage?.totalTokens == 7 && final.result?["object"]?.stringValue == "chat.completion")

            // Resume mid-stream: only what follows the last id seen.
            let resumed = try await s.events(a, id, lastEventID: "3")
            #expect(resumed.events.map(\.event) == ["delta", "completed"] && resumed.events.first?.id == "4")
            #expect(try await s.events(a, id, query: "?after=4").events.map(\.event) == ["completed"])
            #expect(try await s.call(.get, "/v1/jobs/\(id)/events?after=x", bearer: a.access).errorCode == "invalid_parameter")

            // The record follows the update queue: result, usage, cost, timing.
            try await eventually("completed record") {
                try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access).json["status"]?.stringValue == "completed"
            }
            let job = try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access).json
            #expect(job["cost_micro_usd"]?.doubleValue == 1234 && job["usage"]?["total_tokens"]?.doubleValue == 7 && job["worker"]?.stringValue == "w1")
            #expect(job["result"]?["choices"]?.arrayValue?.count == 1)
            for field in ["queued_at", "started_at", "first_token_at", "completed_at"] {
                #expect(job["timing"]?[field]?.stringValue != nil, "timing.\(field)")
            }
            // Redelivered and late updates never overwrite a terminal status.
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(jobID: id, status: .running)))
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(jobID: id, status: .failed, error: .init(code: "x", message: "late"))))
            let marker = try await s.submitted(a)
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(jobID: marker, status: .failed, error: .init(code: "boom", message: "no"))))
            try await eventually("marker applied") { try await s.call(.get, "/v1/jobs/\(marker)", bearer: a.access).json["status"]?.stringValue == "failed" }
            #expect(try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access).json["status"]?.stringValue == "completed")

            // An update naming another tenant changes nothing.
            let b = try await s.signup()
            let other = try await s.submitted(b)
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(jobID: other, status: .failed)))
            let marker2 = try await s.submitted(a)
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(jobID: marker2, status: .cancelled)))
            try await eventually("marker2 applied") { try await s.call(.get, "/v1/jobs/\(marker2)", bearer: a.access).json["status"]?.stringValue == "cancelled" }
            #expect(try await s.call(.get, "/v1/jobs/\(other)", bearer: b.access).json["status"]?.stringValue == "queued")

            let metrics = try await s.call(.get, "/metrics").text
            for line in [#"api_jobs_submitted_total{kind="chat"} 4"#, #"api_jobs_finished_total{status="completed"} 1"#, "api_sse_connections 0",
                         #"api_consumer_lag_seconds{queue="ai-job-updates"}"#, #"api_consumer_messages_total{queue="usage-records",result="applied"} 1"#] {
                #expect(metrics.contains(line), "metrics: \(line)")
            }
        }
    }

    @Test func aTerminalJobWithoutStreamGetsOneSyntheticEvent() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let id = try await s.submitted(a)
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(
                jobID: id, status: .completed, result: .object(["ok": .bool(true)]), usage: TokenUsage(promptTokens: 1, completionTokens: 1), costMicroUSD: 9)))
            try await eventually("completed") { try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access).json["status"]?.stringValue == "completed" }
            let deleted = try await s.internalCall(.delete, s.brokerBase, "/internal/v1/streams/job.\(id)")
            #expect(deleted.status == 204)
            let r = try await s.events(a, id)
            #expect(r.events.map(\.event) == ["completed"] && r.events.first?.id == nil)
            #expect(try JSONDecoder().decode(AIJobEventData.self, from: Data(try #require(r.events.first).data.utf8)).costMicroUSD == 9)
        }
    }

    @Test func webSocketFollowsTwoJobsAtOnce() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let first = try await s.submitted(a)
            let second = try await s.submitted(a)
            var messages: [String: AIJobMessage] = [:]
            for _ in 0..<2 {
                let (m, _) = try await s.receiveJob()
                messages[m.jobID] = m
            }
            let unauth = try? TestWebSocketClient(port: s.api.port, path: "/v1/stream")
            #expect(unauth == nil, "the upgrade needs a credential")
            let ws = try TestWebSocketClient(port: s.api.port, path: "/v1/stream?access_token=\(a.access)")
            try ws.send(text: #"{"type":"subscribe","job_id":"\#(first)"}"#)
            try ws.send(text: #"{"type":"subscribe","job_id":"\#(second)","after":1}"#)
            try ws.send(text: #"{"type":"subscribe","job_id":"job_nope"}"#)
            try ws.send(text: "not json")
            for m in messages.values { try await s.completeJob(m) }

            var events: [String: [String]] = [:]
            var others: [String] = []
            var finished = Set<String>()
            let deadline = ContinuousClock.now + .seconds(10)
            while finished.count < 2 && ContinuousClock.now < deadline {
                guard let frame = try ws.receiveFrame(timeout: .seconds(2)), frame.opcode == .text else { continue }
                let json = try JSONDecoder().decode(JSONValue.self, from: Data(frame.payload))
                let type = json["type"]?.stringValue ?? ""
                if type == "event", let job = json["job_id"]?.stringValue, let event = json["event"]?.stringValue {
                    events[job, default: []].append(event)
                    if event == "completed" { finished.insert(job) }
                } else {
                    others.append(type == "error" ? "error:\(json["code"]?.stringValue ?? "")" : type)
                }
            }
            #expect(events[first] == ["status", "status", "delta", "delta", "completed"])
            #expect(events[second] == ["status", "delta", "delta", "completed"], "after: 1 skips the queued event")
            #expect(others.filter { $0 == "subscribed" }.count == 2)
            #expect(others.contains("error:job_not_found") && others.contains("error:invalid_json"))
            // The socket stays open for more after both jobs ended.
            try ws.send(text: #"{"type":"subscribe","job_id":"\#(first)","after":5}"#)
            let again = try #require(try ws.receiveFrame(timeout: .seconds(2)))
            #expect(String(decoding: again.payload, as: UTF8.self).contains("subscribed"))
            try ws.send(opcode: .close, payload: [0x03, 0xE8])
        }
    }

    @Test func usageAggregatesRecordsByModelAndDay() async throws {
        try await withStack { s in
            let a = try await s.signup()
            let b = try await s.signup()
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let day: Int64 = 86_400_000
            let records = [
                UsageRecord(id: "r1", tenant: a.tenant, subject: a.userID, subjectKind: .user, model: "sim-small", deployment: "d",
                    usage: TokenUsage(promptTokens: 10, completionTokens: 5), costMicroUSD: 100, at: now),
                UsageRecord(id: "r2", tenant: a.tenant, subject: a.userID, subjectKind: .user, model: "sim-large", deployment: "d",
                    usage: TokenUsage(promptTokens: 20, completionTokens: 10), costMicroUSD: 300, at: now - day),
                UsageRecord(id: "r3", tenant: a.tenant, subject: "key1", subjectKind: .apiKey, model: "sim-small", deployment: "",
                    usage: TokenUsage(promptTokens: 10, completionTokens: 5), costMicroUSD: 0, savedCostMicroUSD: 100, cache: "hit-semantic", at: now),
                UsageRecord(id: "r4", tenant: b.tenant, subject: b.userID, subjectKind: .user, model: "sim-small", deployment: "d",
                    usage: TokenUsage(promptTokens: 1, completionTokens: 1), costMicroUSD: 999, at: now),
            ]
            for r in records + [records[0]] { try await s.sendToQueue(AIJobContract.usageQueue, r) }  // r1 twice: idempotent
            try await eventually("usage in") {
                let other = try await s.call(.get, "/v1/usage?group_by=model", bearer: b.access).json["totals"]?["requests"]?.doubleValue
                let mine = try await s.call(.get, "/v1/usage", bearer: a.access).json["totals"]?["requests"]?.doubleValue
                return other == 1 && mine == 3
            }
            let byModel = try await s.call(.get, "/v1/usage?group_by=model", bearer: a.access).json
            #expect(byModel["totals"]?["cost_micro_usd"]?.doubleValue == 400 && byModel["totals"]?["saved_cost_micro_usd"]?.doubleValue == 100)
            #expect(byModel["totals"]?["cache_hits"]?.doubleValue == 1 && byModel["totals"]?["total_tokens"]?.doubleValue == 60)
            let groups = byModel["groups"]?.arrayValue ?? []
            #expect(groups.compactMap { $0["key"]?.stringValue } == ["sim-large", "sim-small"])
            #expect(groups.last?["requests"]?.doubleValue == 2 && groups.last?["cost_micro_usd"]?.doubleValue == 100)
            let today = String(try #require(byModel["to"]?.stringValue))
            let byDay = try await s.call(.get, "/v1/usage?group_by=day&to=\(today)", bearer: a.access).json
            #expect(byDay["groups"]?.arrayValue?.count == 2 && byDay["groups"]?.arrayValue?.last?["key"]?.stringValue == today)
            let onlyToday = try await s.call(.get, "/v1/usage?from=\(today)&to=\(today)", bearer: a.access).json
            #expect(onlyToday["totals"]?["cost_micro_usd"]?.doubleValue == 100)
            for bad in ["from=2026-02-30", "from=yesterday", "group_by=user", "from=2020-01-01&to=2026-01-01", "from=2026-02-02&to=2026-02-01"] {
                let r = try await s.call(.get, "/v1/usage?\(bad)", bearer: a.access)
                #expect(r.status == 400 && r.errorCode == "invalid_parameter", "\(bad)")
            }
        }
    }
}
