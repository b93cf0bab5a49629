import Foundation
@testable import InferenceGateway
import Shared
import Synchronization
import Testing

/// The worker's delta batcher: a batch goes out when it is full, when its window ends or when the
/// job finishes, in order, never split beyond queue-broker's 100 events per append.
@Suite("Worker: delta batching")
struct WorkerDeltaBatcherTests {
    @Test func aFullBatchGoesOutWithoutWaitingForItsWindow() async throws {
        let sent = SentBatches()
        // A window no test run waits out: only "full" can send this batch before finish().
        let batcher = DeltaBatcher(jobID: "j1", maxCount: 4, window: .seconds(600)) { await sent.record($0) }
        for word in ["a", "b", "c", "d"] { batcher.add(word) }
        try await sent.waitFor(batches: 1)
        #expect(sent.texts == [["a", "b", "c", "d"]])
        await batcher.finish()
        #expect(sent.texts.count == 1)
    }

    @Test func aLoneDeltaGoesOutWhenItsWindowEnds() async throws {
        let sent = SentBatches()
        let batcher = DeltaBatcher(jobID: "j2", maxCount: 100, window: .milliseconds(20)) { await sent.record($0) }
        batcher.add("one")
        try await sent.waitFor(batches: 1)
        batcher.add("two")
        try await sent.waitFor(batches: 2)
        #expect(sent.texts == [["one"], ["two"]])
        await batcher.finish()
        #expect(sent.texts.count == 2)
    }

    @Test func finishSendsWhatIsPendingAtOnceInOrderAndInChunksOf100() async throws {
        let sent = SentBatches()
        let batcher = DeltaBatcher(jobID: "j3", maxCount: 1_000, window: .seconds(600)) { await sent.record($0) }
        let words = (0..<250).map { "w\($0) " }
        batcher.add("")  // ignored
        for w in words { batcher.add(w) }
        await batcher.finish()
        #expect(sent.texts.map(\.count) == [100, 100, 50])
        #expect(sent.texts.flatMap { $0 } == words)
        #expect(sent.jobIDs == ["j3"])
    }

    @Test func manyDeltasArriveWhileSendingAndNoneIsLostOrReordered() async throws {
        let sent = SentBatches()
        let batcher = DeltaBatcher(jobID: "j4", maxCount: 7, window: .milliseconds(5)) { await sent.record($0) }
        let words = (0..<500).map { "t\($0)" }
        for (i, w) in words.enumerated() {
            batcher.add(w)
            if i % 50 == 0 { await Task.yield() }
        }
        await batcher.finish()
        #expect(sent.texts.flatMap { $0 } == words)
        #expect(sent.texts.allSatisfy { !$0.isEmpty && $0.count <= 100 })
    }
}

/// What a batcher sent, batch by batch.
private final class SentBatches: Sendable {
    private let batches = Mutex<[[QueueBrokerClient.NewEvent]]>([])

    func record(_ events: [QueueBrokerClient.NewEvent]) async { batches.withLock { $0.append(events) } }

    var texts: [[String]] { batches.withLock { $0.map { $0.map { $0.data.content ?? "" } } } }
    var jobIDs: Set<String> { batches.withLock { Set($0.flatMap { $0.map(\.data.jobID) }) } }

    /// Waits (up to 10 s) until at least `count` batches were sent.
    func waitFor(batches count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while batches.withLock({ $0.count }) < count {
            guard ContinuousClock.now < deadline else { throw WaitTimedOut() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    struct WaitTimedOut: Error {}
}
