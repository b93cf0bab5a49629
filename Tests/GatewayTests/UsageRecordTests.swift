import BulkheadService
import Foundation
@testable import InferenceGateway
import Shared
import Testing

/// Every finished call becomes a `UsageRecord` on queue-broker's `usage-records` queue, batched,
/// and the cost metrics by tenant and model.
@Suite("Usage: records and cost metrics", .serialized)
struct UsageRecordTests {
    @Test func recordsArriveOnTheUsageQueueWithTenantModelAndCost() async throws {
        let broker = try await TenancyTest.startBroker()
        let tenancy = try await Tenancy.make(TenancyTest.context(["QUEUE_BROKER_URL": broker.baseURL]), localModels: TenancyTest.localModels())
        let hooks = try #require(tenancy.hooks as? TenancyHooks)
        let flusher = Task { for work in tenancy.background { try? await work() } }

        // 12 calls of tenant A (two batches), one of tenant B, and a cache hit of A.
        for i in 0..<12 {
            let t = try await hooks.admit(TenancyTest.call(tenant: "tenant-a", model: "sim-chat", requestID: "req-a-\(i)"))
            await t.finish(TenancyTest.outcome(prompt: 10, completion: 5, cost: 125))
        }
        let b = try await hooks.admit(TenancyTest.call(tenant: "tenant-b", model: "other-model", requestID: "req-b"))
        await b.finish(TenancyTest.outcome(prompt: 100, completion: 50, cost: 7_000))
        let hit = try await hooks.admit(TenancyTest.call(tenant: "tenant-a", model: "sim-chat", requestID: "req-a-hit"))
        await hit.finish(TenancyTest.outcome(
            prompt: 10, completion: 5, cost: 0,
            cache: CachedAnswer(kind: "hit-exact", similarity: 1, response: .object([:]), usage: nil, savedCostMicroUSD: 125)))

        var records: [UsageRecord] = []
        let complete = try await TenancyTest.eventually {
            let r = try await TenancyTest.internalCall(
                .post, broker.baseURL + "/internal/v1/queues/\(AIJobContract.usageQueue)/receive", json: #"{"max_messages":10}"#)
            for m in r.json?["messages"]?.arrayValue ?? [] {
                if let body = m["body"], let data = try? JSONEncoder().encode(body) { records.append(try JSONDecoder().decode(UsageRecord.self, from: data)) }
            }
            return records.count >= 14
        }
        #expect(complete, "got \(records.count) records")
        #expect(Set(records.map(\.id)).count == 14)
        let recordB = try #require(records.first { $0.id == "req-b" })
        #expect(recordB.tenant == "tenant-b" && recordB.model == "other-model" && recordB.costMicroUSD == 7_000)
        #expect(recordB.usage.promptTokens == 100 && recordB.usage.completionTokens == 50 && recordB.deployment == "sim-1")
        let recordHit = try #require(records.first { $0.id == "req-a-hit" })
        #expect(recordHit.cache == "hit-exact" && recordHit.costMicroUSD == 0 && recordHit.savedCostMicroUSD == 125)
        #expect(records.filter { $0.tenant == "tenant-a" }.count == 13)

        let metrics = TenancyTest.renderedMetrics(tenancy)
        #expect(metrics.contains(#"gateway_cost_micro_usd_total{tenant="tenant-a",model="sim-chat"} 1500"#))
        #expect(metrics.contains(#"gateway_cost_micro_usd_total{tenant="tenant-b",model="other-model"} 7000"#))
        #expect(metrics.contains(#"gateway_saved_cost_micro_usd_total{tenant="tenant-a",model="sim-chat"} 125"#))
        #expect(metrics.contains(#"gateway_output_tokens_total{model="sim-chat"} 60"#))  // hits generate nothing
        #expect(metrics.contains("gateway_output_tokens_per_second{model=\"sim-chat\"}"))
        flusher.cancel()
        for step in tenancy.onShutdown { await step() }
        await broker.shutdown()
    }

    @Test func recordsWaitWhileTheBrokerIsDownAndTheBufferIsBounded() async throws {
        let context = TenancyTest.context(["QUEUE_BROKER_URL": "http://127.0.0.1:9", "GATEWAY_USAGE_BUFFER": "10", "GATEWAY_TENANCY_SHUTDOWN_WAIT": "200ms"])
        let tenancy = try await Tenancy.make(context, localModels: TenancyTest.localModels())
        let hooks = try #require(tenancy.hooks as? TenancyHooks)
        for i in 0..<15 {
            let t = try await hooks.admit(TenancyTest.call(tenant: "t-svc", kind: .service, requestID: "svc-\(i)"))
            await t.finish(TenancyTest.outcome(prompt: 1, completion: 1, cost: 1))
        }
        #expect(hooks.usage.pending == 10)
        #expect(await hooks.usage.flush() == false)
        #expect(TenancyTest.renderedMetrics(tenancy).contains("gateway_usage_records_dropped_total 5"))
        for step in tenancy.onShutdown { await step() }
    }
}
