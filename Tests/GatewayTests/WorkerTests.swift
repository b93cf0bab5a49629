import BulkheadService
import Foundation
@testable import InferenceGateway
import Shared
import Synchronization
import Testing

/// A test double of the pipeline (the worker's contract with queue-broker is what is under test):
/// per prompt text, it streams deltas, fails, or hangs until cancelled.
final class ScriptedPipeline: InferencePipeline {
    /// How the call whose last user message is the key behaves.
    enum Script: Sendable {
        case answer([String], pause: Duration)
        /// Fails with a retryable 429 this many times, then answers.
        case failFirst(Int, [String])
        case failPermanently
        /// One delta, then waits until cancelled.
        case hang
    }

    private let scripts: [String: Script]
    private let calls = Mutex<[String: Int]>([:])
    let cancellations = Atomic<Int>(0)

    init(_ scripts: [String: Script]) { self.scripts = scripts }

    func callCount(_ prompt: String) -> Int { calls.withLock { $0[prompt] ?? 0 } }

    func chat(_ request: JSONValue, caller: Caller, onDelta: @escaping @Sendable (String) async -> Void) async throws -> PipelineResult {
        let prompt = request["messages"]?.arrayValue?.last?["content"]?.stringValue ?? ""
        let n = calls.withLock { c -> Int in c[prompt, default: 0] += 1; return c[prompt] ?? 0 }
        #expect(caller.jobID != nil && caller.requestID.hasPrefix("job:"))
        #expect(request["model"]?.stringValue == "sim-chat" && request["temperature"]?.doubleValue == 0.5)
        func answer(_ pieces: [String], pause: Duration) async throws -> PipelineResult {
            for p in pieces {
                try await Task.sleep(for: pause)
                await onDelta(p)
            }
            let text = pieces.joined()
            return PipelineResult(
                response: .object(["object": .string("chat.completion"), "choices": .array([.object(["message": .object(["content": .string(text)])])])]),
                usage: TokenUsage(promptTokens: 7, completionTokens: pieces.count), costMicroUSD: 42, deployment: "sim-1",
                firstTokenAt: Int64(Date().timeIntervalSince1970 * 1000))
        }
        switch scripts[prompt] ?? .failPermanently {
        case .answer(let pieces, let pause): return try await answer(pieces, pause: pause)
        case .failFirst(let k, let pieces):
            if n <= k { throw GatewayError.rateLimited(limit: "requests_per_minute", message: "slow down", retryAfterSeconds: 1) }
            return try await answer(pieces, pause: .milliseconds(1))
        case .failPermanently:
            throw GatewayError(status: .badRequest, message: "bad model input", type: "invalid_request_error", code: "invalid_input")
        case .hang:
            await onDelta("thinking")
            do { try await Task.sleep(for: .seconds(60)) } catch {
                cancellations.add(1, ordering: .relaxed)
                throw error
            }
            throw GatewayError(status: .gatewayTimeout, message: "hung", type: "api_error")
        }
    }

    func embeddings(_ request: JSONValue, caller: Caller) async throws -> PipelineResult {
        PipelineResult(response: .object(["object": .string("list")]), usage: TokenUsage(promptTokens: 3, completionTokens: 0), costMicroUSD: 1, deployment: "local")
    }
}

/// The job worker against a real queue-broker: the `AIJobContract` flow end to end.
@Suite("Worker: AI jobs over queue-broker", .serialized)
struct WorkerTests {
    struct Harness {
        let broker: ServiceHost
        let worker: JobWorker
        let tenancy: Tenancy
        let background: Task<Void, Never>

        var base: String { broker.baseURL + "/internal/v1" }

        static func start(_ pipeline: any InferencePipeline, extra: [String: String] = [:]) async throws -> Harness {
            let broker = try await TenancyTest.startBroker()
            var env = ["QUEUE_BROKER_URL": broker.baseURL, "GATEWAY_WORKER_CONCURRENCY": "2", "GATEWAY_WORKER_POLL_SECONDS": "1"]
            for (k, v) in extra { env[k] = v }
            let context = TenancyTest.context(env)
            let tenancy = try await Tenancy.make(context, localModels: TenancyTest.localModels())
            let worker = try await JobWorker.make(context, pipeline: pipeline, tenancy: tenancy)
            try context.environment.validate()
            let background = Task { await withDiscardingTaskGroup { g in for w in worker.background { g.addTask { try? await w() } } } }
            let h = Harness(broker: broker, worker: worker, tenancy: tenancy, background: background)
            // api-core creates the queue too (idempotent): do it so sends never race the worker.
            let put = try await TenancyTest.internalCall(
                .put, h.base + "/queues/\(AIJobContract.jobQueue)",
                json: #"{"visibility_timeout_seconds":60,"max_receives":3,"nack_backoff_base_seconds":1,"nack_backoff_max_seconds":30}"#)
            #expect(put.status == 200 || put.status == 201)
            return h
        }

        /// What the scaffolding does at shutdown: cancel background work, then run onShutdown.
        func stop() async {
            background.cancel()
            await background.value
            for step in worker.onShutdown { await step() }
            for step in tenancy.onShutdown { await step() }
            await broker.shutdown()
        }

        /// Submits a job as api-core would: `queued` on its stream, then the message.
        func submit(_ id: String, prompt: String, cancelFirst: Bool = false) async throws {
            let queued = #"{"type":"status","data":{"job_id":"\#(id)","status":"queued"}}"#
            #expect(try await TenancyTest.internalCall(.post, base + "/streams/job.\(id)/events", json: queued).status == 201)
            if cancelFirst {
                let cancel = #"{"type":"cancel_requested","data":{"job_id":"\#(id)"}}"#
                #expect(try await TenancyTest.internalCall(.post, base + "/streams/job.\(id)/events", json: cancel).status == 201)
            }
            let message = AIJobMessage(
                jobID: id, tenant: "tenant-w", subject: "user-9", subjectKind: .user, plan: "pro", kind: .chat, model: "sim-chat",
                input: .object(["messages": .array([.object(["role": .string("user"), "content": .string(prompt)])])]),
                parameters: ["temperature": .number(0.5)], queuedAt: Int64(Date().timeIntervalSince1970 * 1000))
            let body = String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
            let sent = try await TenancyTest.internalCall(
                .post, base + "/queues/\(AIJobContract.jobQueue)/messages", json: #"{"body":\#(body),"tenant":"tenant-w","idempotency_key":"\#(id)"}"#)
            #expect(sent.status == 201, "\(sent.text)")
        }

        func events(_ id: String) async throws -> [(type: String, data: JSONValue)] {
            let r = try await TenancyTest.internalCall(.get, base + "/streams/job.\(id)/events?after=0&limit=1000")
            return (r.json?["events"]?.arrayValue ?? []).map { ($0["type"]?.stringValue ?? "", $0["data"] ?? .null) }
        }

        func waitForTerminal(_ id: String, timeout: Duration = .seconds(15)) async throws -> [(type: String, data: JSONValue)] {
            var last: [(type: String, data: JSONValue)] = []
            _ = try await TenancyTest.eventually(timeout: timeout) {
                last = try await events(id)
                return last.contains { ["completed", "failed", "cancelled"].contains($0.type) }
            }
            return last
        }

        func queueStats() async throws -> JSONValue {
            try await TenancyTest.internalCall(.get, base + "/queues/\(AIJobContract.jobQueue)/stats").json ?? .null
        }

        func updates() async throws -> [AIJobUpdate] {
            let r = try await TenancyTest.internalCall(.post, base + "/queues/\(AIJobContract.updateQueue)/receive", json: #"{"max_messages":10}"#)
            return try (r.json?["messages"]?.arrayValue ?? []).compactMap { m in
                guard let body = m["body"] else { return nil }
                return try JSONDecoder().decode(AIJobUpdate.self, from: JSONEncoder().encode(body))
            }
        }

        func settled() async throws -> Bool {
            try await TenancyTest.eventually {
                let s = try await queueStats()
                return s["visible"]?.doubleValue == 0 && s["in_flight"]?.doubleValue == 0 && s["delayed"]?.doubleValue == 0
            }
        }
    }

    @Test func aChatJobStreamsDeltasThenCompletesWithUsageAndCost() async throws {
        let pieces = (0..<40).map { "w\($0) " }
        let pipeline = ScriptedPipeline(["hello": .answer(pieces, pause: .milliseconds(2))])
        let h = try await Harness.start(pipeline)
        try await h.submit("job-ok", prompt: "hello")
        let events = try await h.waitForTerminal("job-ok")
        let types = events.map(\.type)
        #expect(types.first == "status" && events.first?.data["status"]?.stringValue == "queued")
        #expect(types.dropFirst().first == "status" && events[1].data["status"]?.stringValue == "running")
        #expect(events[1].data["worker"]?.stringValue?.isEmpty == false)
        #expect(types.last == "completed")
        let deltas = events.filter { $0.type == "delta" }.compactMap { $0.data["content"]?.stringValue }
        #expect(deltas == pieces)
        let done = try #require(events.last?.data)
        #expect(done["usage"]?["completion_tokens"]?.doubleValue == 40 && done["usage"]?["prompt_tokens"]?.doubleValue == 7)
        #expect(done["cost_micro_usd"]?.doubleValue == 42)
        #expect(done["result"]?["object"]?.stringValue == "chat.completion")
        #expect(done["timing"]?["started_at"] != nil && done["timing"]?["completed_at"] != nil && done["timing"]?["queued_at"] != nil)
        #expect(try await h.settled(), "the message is acked")
        let updates = try await h.updates()
        #expect(updates.map { $0.data.status } == [.running, .completed])
        #expect(updates.allSatisfy { $0.tenant == "tenant-w" && $0.data.jobID == "job-ok" })
        #expect(pipeline.callCount("hello") == 1)
        let metrics = TenancyTest.renderedMetrics(h.tenancy)
        #expect(metrics.contains(#"gateway_jobs_total{outcome="completed"} 1"#))
        #expect(metrics.contains("gateway_job_queue_wait_seconds_count 1"))
        await h.stop()
    }

    @Test func cancelBeforeStartSkipsTheJobAndCancelWhileRunningStopsIt() async throws {
        let pipeline = ScriptedPipeline(["never": .answer(["x"], pause: .zero), "slow": .hang])
        let h = try await Harness.start(pipeline)
        try await h.submit("job-early", prompt: "never", cancelFirst: true)
        #expect(try await h.settled())
        #expect(pipeline.callCount("never") == 0)
        #expect(!(try await h.events("job-early")).contains { $0.type == "status" && $0.data["status"]?.stringValue == "running" })

        try await h.submit("job-late", prompt: "slow")
        let started = try await TenancyTest.eventually { try await h.events("job-late").contains { $0.type == "delta" } }
        #expect(started)
        let cancel = #"{"type":"cancel_requested","data":{"job_id":"job-late"}}"#
        #expect(try await TenancyTest.internalCall(.post, h.base + "/streams/job.job-late/events", json: cancel).status == 201)
        let events = try await h.waitForTerminal("job-late")
        #expect(events.last?.type == "cancelled")
        #expect(pipeline.cancellations.load(ordering: .relaxed) == 1)
        #expect(try await h.settled())
        await h.stop()
    }

    @Test func retryableFailuresAreNackedThenSucceedAndPermanentOnesFail() async throws {
        let pipeline = ScriptedPipeline(["flaky": .failFirst(1, ["ok"]), "broken": .failPermanently])
        let h = try await Harness.start(pipeline)
        try await h.submit("job-flaky", prompt: "flaky")
        try await h.submit("job-broken", prompt: "broken")
        let flaky = try await h.waitForTerminal("job-flaky")
        #expect(flaky.last?.type == "completed")
        #expect(pipeline.callCount("flaky") == 2)
        // The nacked attempt wrote no terminal event: exactly one at the end.
        #expect(flaky.filter { ["completed", "failed", "cancelled"].contains($0.type) }.count == 1)
        let broken = try await h.waitForTerminal("job-broken")
        #expect(broken.last?.type == "failed")
        #expect(broken.last?.data["error"]?["code"]?.stringValue == "invalid_input")
        #expect(pipeline.callCount("broken") == 1)
        #expect(try await h.settled())
        await h.stop()
    }

    @Test func shutdownDrainsRunningJobsAndReleasesThoseThatOutlastTheDrain() async throws {
        let pieces = (0..<20).map { "p\($0)" }
        let pipeline = ScriptedPipeline(["steady": .answer(pieces, pause: .milliseconds(10)), "stuck": .hang])
        let h = try await Harness.start(pipeline, extra: ["GATEWAY_WORKER_DRAIN_TIMEOUT": "2s"])
        try await h.submit("job-steady", prompt: "steady")
        try await h.submit("job-stuck", prompt: "stuck")
        let bothRunning = try await TenancyTest.eventually {
            let a = try await h.events("job-steady").contains { $0.type == "delta" }
            let b = try await h.events("job-stuck").contains { $0.type == "delta" }
            return a && b
        }
        #expect(bothRunning)
        // Shutdown as the scaffolding does it, but keep the broker up to inspect.
        h.background.cancel()
        await h.background.value
        for step in h.worker.onShutdown { await step() }
        // The steady job finished during the drain; the stuck one was released, not failed.
        #expect(try await h.events("job-steady").last?.type == "completed")
        let stuck = try await h.events("job-stuck")
        #expect(!stuck.contains { ["completed", "failed", "cancelled"].contains($0.type) })
        let stats = try await h.queueStats()
        #expect(stats["visible"]?.doubleValue == 1 && stats["in_flight"]?.doubleValue == 0, "\(stats)")
        for step in h.tenancy.onShutdown { await step() }
        await h.broker.shutdown()
    }
}
