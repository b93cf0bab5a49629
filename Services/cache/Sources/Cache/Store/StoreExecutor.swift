import Dispatch

/// The `CacheStore` actor's own serial executor: one dispatch queue, off the event loops.
///
/// Why it exists: the HTTP runtime's event loops are `TaskExecutor`s, and a default actor runs
/// on the task executor of the request that finds it idle. A busy store then drained its whole
/// queue on that one loop's thread (jobs from the other loop's requests kept arriving), so the
/// loop's own sockets were neither read nor written until the queue ran dry: vector lookups over
/// HTTP had p99 746 ms–1.1 s against a p50 of 3–7 ms with two loops, and p99 27 ms with one
/// (`bench/results/cache-2026-11-24.md`). On its own queue the store competes for a core like
/// any other thread while both loops keep serving I/O.
final class StoreExecutor: SerialExecutor {
    private let queue: DispatchQueue

    /// - Parameter label: the dispatch queue's name (shows in thread dumps and profiles).
    init(label: String) {
        queue = DispatchQueue(label: label, qos: .userInitiated)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { unowned.runSynchronously(on: executor) }
    }
}
