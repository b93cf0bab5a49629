import BulkheadHTTP
import Dispatch
import Foundation
import Synchronization

/// Blocking work on threads of its own: a bulkhead inside one process. `BlockingWork` shares
/// Dispatch's pool with everything else in the process; a lane's threads serve only its own
/// callers, so a flood of work on another lane (AI job bookkeeping, say) never queues in front
/// of it (settings reads and writes).
///
/// ```swift
/// let settingsLane = BlockingLane(name: "settings", threads: 2)
/// let entry = try await settingsLane.run { try store.read(scope) }
/// ```
public final class BlockingLane: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var head = 0
        var stopped = false
    }

    public let name: String
    private let threadCount: Int
    private let state = Mutex(State())
    private let available = DispatchSemaphore(value: 0)

    /// Starts `threads` threads named `<name>-<n>`; they run until `stop()`.
    public init(name: String, threads: Int = 2) {
        self.name = name
        threadCount = max(1, threads)
        for n in 0..<threadCount {
            let threadName = "\(name)-\(n)"
            let thread = Thread { [self] in
                ThreadName.setCurrent(threadName)
                self.serve()
            }
            thread.name = threadName
            thread.start()
        }
    }

    /// Runs `body` on one of the lane's threads and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job: @Sendable () -> Void = { continuation.resume(with: Result { try body() }) }
            let queued = state.withLock { s -> Bool in
                if s.stopped { return false }
                s.jobs.append(job)
                return true
            }
            if queued { available.signal() } else { DispatchQueue.global().async(execute: job) }
        }
    }

    /// Lets the threads finish the work already queued, then end. Later `run` calls still
    /// complete, on the caller's side of Dispatch's pool.
    public func stop() {
        state.withLock { $0.stopped = true }
        for _ in 0..<threadCount { available.signal() }
    }

    /// The lane whose thread runs the caller, if any (tests, diagnostics).
    public static var currentName: String? { Thread.current.threadDictionary[laneKey] as? String }
    private static let laneKey = "bulkhead.blocking-lane"

    private func serve() {
        Thread.current.threadDictionary[Self.laneKey] = name
        while true {
            available.wait()
            let (job, stop) = state.withLock { s -> ((@Sendable () -> Void)?, Bool) in
                guard s.head < s.jobs.count else { return (nil, s.stopped) }
                let job = s.jobs[s.head]
                s.head += 1
                // Compact now and then so the array does not grow without bound.
                if s.head > 64 && s.head * 2 > s.jobs.count {
                    s.jobs.removeFirst(s.head)
                    s.head = 0
                }
                return (job, false)
            }
            if let job { job() } else if stop { return }
        }
    }
}
