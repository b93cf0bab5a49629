import BulkheadService
import Foundation
@testable import InferenceGateway
import Shared
import Testing

/// A job end to end through the real pipeline (core + tenancy) on the simulator model.
@Suite("Worker: a job through the real pipeline", .serialized)
struct WorkerPipelineTests {
    @Test func aChatJobRunsOnTheSimulatorThroughTheRealPipeline() async throws {
        let broker = try await TenancyTest.startBroker()
        let gateway = try await ServiceHost.start(
            InferenceGatewayService.self,
            environment: TenancyTest.environment([
                "GATEWAY_MODE": "worker", "QUEUE_BROKER_URL": broker.baseURL, "GATEWAY_WORKER_POLL_SECONDS": "1",
                "GATEWAY_USAGE_FLUSH_INTERVAL": "20ms",
            ]))
        let base = broker.baseURL + "/internal/v1"
        let ready = await TenancyTest.eventually { (try? await TenancyTest.call(.get, gateway.baseURL + "/readyz"))?.status == 200 }
        #expect(ready)
        // A worker does not serve the OpenAI routes.
        #expect(try await TenancyTest.call(.get, gateway.baseURL + "/v1/models").status == 404)

        let id = "job-sim-\(UUID().uuidString.prefix(8))"
        let message = AIJobMessage(
            jobID: id, tenant: "tenant-sim", subject: "key-1", subjectKind: .apiKey, plan: "pro", kind: .chat, model: "simulator-fast",
            input: .object(["messages": .array([.object(["role": .string("user"), "content": .string("Say something")])])]),
            parameters: ["temperature": .number(1)], queuedAt: Int64(Date().timeIntervalSince1970 * 1000))
        let body = String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
        #expect(try await TenancyTest.internalCall(.post, base + "/queues/ai-jobs/messages", json: #"{"body":\#(body),"tenant":"tenant-sim"}"#).status == 201)

        var events: [JSONValue] = []
        let finished = try await TenancyTest.eventually(timeout: .seconds(20)) {
            events = try await TenancyTest.internalCall(.get, base + "/streams/job.\(id)/events?after=0").json?["events"]?.arrayValue ?? []
            return events.contains { ["completed", "failed"].contains($0["type"]?.stringValue ?? "") }
        }
        #expect(finished, "\(events)")
        let types = events.compactMap { $0["type"]?.stringValue }
        #expect(types.first == "status" && types.last == "completed", "\(types)")
        #expect(types.contains("delta"))
        let done = try #require(events.last?["data"])
        let completion = try #require(done["usage"]?["completion_tokens"]?.doubleValue)
        #expect(completion > 0)
        #expect((done["cost_micro_usd"]?.doubleValue ?? 0) > 0)
        let text = events.filter { $0["type"]?.stringValue == "delta" }.compactMap { $0["data"]?["content"]?.stringValue }.joined()
        #expect(done["result"]?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue == text)

        // Its usage record arrives, under the job's tenant and id.
        var record: UsageRecord?
        let recorded = try await TenancyTest.eventually {
            let r = try await TenancyTest.internalCall(.post, base + "/queues/usage-records/receive", json: #"{"max_messages":10}"#)
            for m in r.json?["messages"]?.arrayValue ?? [] {
                if let b = m["body"], let u = try? JSONDecoder().decode(UsageRecord.self, from: JSONEncoder().encode(b)), u.jobID == id { record = u }
            }
            return record != nil
        }
        #expect(recorded)
        #expect(record?.tenant == "tenant-sim" && record?.id == "job:\(id)" && record?.model == "simulator-fast")
        #expect(record?.costMicroUSD == done["cost_micro_usd"]?.doubleValue.map { Int64($0) })
        await gateway.shutdown()
        await broker.shutdown()
    }
}
