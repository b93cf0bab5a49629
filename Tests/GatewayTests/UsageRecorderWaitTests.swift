import BulkheadObservability
import BulkheadService
import Foundation
@testable import InferenceGateway
import Shared
import Testing

/// The usage recorder's flush loop sleeps between flushes: after a full batch woke it early, it
/// must go back to one wait per interval (it used to spin, starting a timer task per turn).
@Suite("Usage: the flush loop sleeps")
struct UsageRecorderWaitTests {
    @Test func afterAnEarlyWakeTheLoopWaitsOncePerInterval() async throws {
        let broker = try await TenancyTest.startBroker()
        let client = try #require(TenancyTest.sharedClient)
        let recorder = UsageRecorder(
            broker: InternalServiceClient(baseURL: broker.baseURL, token: TenancyTest.internalToken, client: client), capacity: 1_000,
            interval: .milliseconds(100), metrics: try TenancyMetrics(MetricsRegistry(includeProcessMetrics: false)),
            logger: Logger(service: "gw-test", minimumLevel: .error))
        let loop = Task { await recorder.run() }
        // Several full batches: each wakes the loop before its interval ends.
        for round in 0..<3 {
            for i in 0..<UsageRecorder.batchSize { recorder.record(Self.record("r\(round)-\(i)")) }
            let deadline = ContinuousClock.now + .seconds(10)
            while recorder.pending > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(recorder.pending == 0)
        }
        // Idle for a while: about 5 waits at 100 ms in 0.5 s (a spinning loop makes thousands).
        let before = recorder.waits
        let start = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(500))
        let elapsed = ContinuousClock.now - start
        let waits = recorder.waits - before
        let allowed = UInt64(elapsed / .milliseconds(100)) + 3
        #expect(waits <= allowed, "\(waits) waits in \(elapsed)")
        #expect(waits >= 1)
        loop.cancel()
        await loop.value
        let stats = try await TenancyTest.internalCall(.get, broker.baseURL + "/internal/v1/queues/\(AIJobContract.usageQueue)/stats")
        #expect(stats.json?["visible"]?.doubleValue == Double(3 * UsageRecorder.batchSize))
        await broker.shutdown()
    }

    static func record(_ id: String) -> UsageRecord {
        UsageRecord(
            id: id, tenant: "t-usage", subject: "u1", subjectKind: .user, model: "sim", deployment: "sim-1",
            usage: TokenUsage(promptTokens: 1, completionTokens: 1), costMicroUSD: 1, at: 0)
    }
}
