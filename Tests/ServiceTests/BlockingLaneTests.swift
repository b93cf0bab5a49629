import BulkheadService
import Foundation
import Synchronization
import Testing

/// A lane's threads serve only its own callers: work piled on Dispatch's shared pool does not
/// delay it, and `stop()` ends the threads without losing queued work.
@Suite("Blocking lane")
struct BlockingLaneTests {
    @Test func runsOnItsOwnNamedThreadsAndReturnsResults() async throws {
        let lane = BlockingLane(name: "unit", threads: 2)
        #expect(try await lane.run { BlockingLane.currentName } == "unit")
        #expect(try await BlockingWork.run { BlockingLane.currentName } == nil)
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<100 { group.addTask { try await lane.run { i } } }
            return try await group.reduce(0, +)
        }
        #expect(sum == 4950)
        struct Boom: Error {}
        await #expect(throws: Boom.self) { try await lane.run { throw Boom() } }
        lane.stop()
        // After stop, calls still complete (off the lane).
        #expect(try await lane.run { 7 } == 7)
    }

    @Test func isNotQueuedBehindBlockedSharedWork() async throws {
        let lane = BlockingLane(name: "isolated", threads: 1)
        // Occupy BlockingWork with more blocked jobs than the machine has cores.
        let release = DispatchSemaphore(value: 0)
        let blockers = 16
        final class Count: Sendable { let value = Atomic<Int>(0) }
        let started = Count()
        let pile = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<blockers {
                    group.addTask {
                        try await BlockingWork.run {
                            started.value.add(1, ordering: .relaxed)
                            release.wait()
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while started.value.load(ordering: .relaxed) == 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        // The lane answers while the shared pool is stuck.
        #expect(try await lane.run { BlockingLane.currentName } == "isolated")
        for _ in 0..<blockers { release.signal() }
        try await pile.value
        lane.stop()
    }
}
