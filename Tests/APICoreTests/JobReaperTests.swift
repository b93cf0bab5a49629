import APICore
import BulkheadHTTP
import BulkheadObservability
import BulkheadService
import Foundation
import Shared
import Testing

/// The reaper: jobs whose `ai-jobs` message queue-broker dead-lettered get a terminal status,
/// the terminal event on their stream, and stop counting against the tenant's limit.
@Suite("api-core job reaper")
struct JobReaperTests {
    static let fast = ["API_JOB_REAPER_INTERVAL": "200ms"]

    @Test func aDeadLetteredJobFailsEndsItsStreamAndFreesTheTenantsSlot() async throws {
        try await withStack(Self.fast) { s in
            // free: one queued or running job at a time.
            let a = try await s.signup(plan: "free")
            let id = try await s.submitted(a)
            #expect(try await s.submit(a).errorCode == "concurrent_jobs_limit")

            // A live reader follows the job from the start.
            async let live = s.events(a, id)

            // A worker starts it, fails retryably and nacks; the next receive dead-letters it.
            _ = try await s.deadLetterJobs(1) { messages in
                let running = AIJobEventData(jobID: id, status: .running, timing: AIJobTiming(queuedAt: messages[0].queuedAt, startedAt: messages[0].queuedAt + 3), worker: "w1")
                try await s.appendEvents(id, [(.status, running)])
                try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: running))
                try await eventually("running") { try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access).json["status"]?.stringValue == "running" }
            }

            try await eventually("failed") { try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access).json["status"]?.stringValue == "failed" }
            let job = try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access)
            #expect(job.json["error"]?["code"]?.stringValue == "retries_exhausted")
            let message = job.json["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains("after 1 delivery") && message.contains("max_receives_exceeded"), "\(message)")
            #expect(job.json["timing"]?["completed_at"]?.stringValue != nil && job.json["timing"]?["started_at"]?.stringValue != nil)
            #expect(job.json["worker"]?.stringValue == "w1")

            // The reader's stream ends with the same terminal event a worker writes.
            let (status, events) = try await live
            #expect(status == 200)
            #expect(events.map(\.event) == ["status", "status", "failed"], "\(events.map(\.event))")
            let last = try JSONDecoder().decode(AIJobEventData.self, from: Data((events.last?.data ?? "").utf8))
            #expect(last.jobID == id && last.status == .failed && last.error?.code == "retries_exhausted" && last.timing?.completedAt != nil)

            // The slot is free again.
            #expect(try await s.submit(a).status == 202)
            #expect(try await s.metric(#"api_jobs_reaped_total{result="failed"}"#) == 1)
            #expect(try await s.metric(#"api_jobs_finished_total{status="failed"}"#) == 1)

            // The handled letter is deleted from queue-broker; later passes change nothing.
            let letters = try await s.internalCall(.get, s.brokerBase, "/internal/v1/queues/ai-jobs/dead-letters")
            #expect(letters.json["messages"]?.arrayValue?.isEmpty == true, "\(letters.text)")
            let rounds = try await s.metric(#"api_job_reaper_rounds_total{result="ok"}"#) ?? 0
            try await eventually("two more passes") { try await s.metric(#"api_job_reaper_rounds_total{result="ok"}"#) ?? 0 >= rounds + 2 }
            let stream = try await s.internalCall(.get, s.brokerBase, "/internal/v1/streams/job.\(id)/events")
            #expect(stream.json["events"]?.arrayValue?.filter { $0["type"]?.stringValue == "failed" }.count == 1)
            #expect(try await s.metric(#"api_jobs_reaped_total{result="failed"}"#) == 1)
        }
    }

    @Test func aFinishedStreamSettlesTheRecordAndARequestedCancelEndsCancelled() async throws {
        try await withStack(Self.fast) { s in
            let a = try await s.signup()
            let done = try await s.submitted(a)
            let stopping = try await s.submitted(a)
            let untouched = try await s.submitted(a)
            #expect(try await s.call(.post, "/v1/jobs/\(untouched)/cancel", bearer: a.access).status == 200)

            _ = try await s.deadLetterJobs(3) { messages in
                #expect(Set(messages.map(\.jobID)) == [done, stopping, untouched])
                // `done`: the worker wrote its result to the stream, but its update never arrived.
                let result: JSONValue = .object(["object": .string("chat.completion"), "model": .string("sim-small")])
                try await s.appendEvents(done, [(.completed, AIJobEventData(
                    jobID: done, status: .completed, result: result, usage: TokenUsage(promptTokens: 3, completionTokens: 4), costMicroUSD: 77,
                    timing: AIJobTiming(completedAt: 1_700_000_000_000)))])
                // `stopping`: running when the tenant asked to cancel; then its worker died.
                try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(jobID: stopping, status: .running, worker: "w2")))
                try await eventually("running") { try await s.call(.get, "/v1/jobs/\(stopping)", bearer: a.access).json["status"]?.stringValue == "running" }
                #expect(try await s.call(.post, "/v1/jobs/\(stopping)/cancel", bearer: a.access).status == 202)
            }

            try await eventually("settled") { try await s.call(.get, "/v1/jobs/\(done)", bearer: a.access).json["status"]?.stringValue == "completed" }
            try await eventually("cancelled") { try await s.call(.get, "/v1/jobs/\(stopping)", bearer: a.access).json["status"]?.stringValue == "cancelled" }
            let finished = try await s.call(.get, "/v1/jobs/\(done)", bearer: a.access)
            #expect(finished.json["cost_micro_usd"]?.doubleValue == 77 && finished.json["usage"]?["total_tokens"]?.doubleValue == 7)
            #expect(finished.json["error"] == .null)
            // The finished stream got nothing more; the cancelled one ends with `cancelled`.
            let doneStream = try await s.internalCall(.get, s.brokerBase, "/internal/v1/streams/job.\(done)/events")
            #expect(doneStream.json["events"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["status", "completed"])
            let (_, events) = try await s.events(a, stopping)
            #expect(events.last?.event == "cancelled")
            // Already terminal before the reaper looked: left exactly as it was.
            let cancelled = try await s.call(.get, "/v1/jobs/\(untouched)", bearer: a.access)
            #expect(cancelled.json["status"]?.stringValue == "cancelled" && cancelled.json["error"]?["code"]?.stringValue == "cancelled")
            #expect(try await s.metric(#"api_jobs_reaped_total{result="settled"}"#) == 1)
            #expect(try await s.metric(#"api_jobs_reaped_total{result="cancelled"}"#) == 1)
            #expect(try await s.metric(#"api_jobs_reaped_total{result="failed"}"#) == nil)
        }
    }

    @Test func badReaperAndModelListSettingsStopTheStart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-api-settings-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for (name, value) in [
            ("API_JOB_REAPER_INTERVAL", "0s"), ("API_JOB_REAPER_INTERVAL", "soon"), ("API_JOB_REAPER_INTERVAL", "2h"),
            ("API_MODEL_LIST_TTL", "0s"), ("GATEWAY_URL", "not a url"),
        ] {
            let environment = Environment([
                "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": directory, "LOG_LEVEL": "error", "ACCESS_LOG": "false", name: value,
            ])
            do {
                let host = try await ServiceHost.start(APICoreService.self, environment: environment)
                Issue.record("\(name)=\(value) was accepted")
                await host.shutdown()
            } catch {
                #expect(String(describing: error).contains(name), "\(error)")
            }
        }
    }
}
