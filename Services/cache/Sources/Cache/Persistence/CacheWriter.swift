import BulkheadObservability
import BulkheadService
import Synchronization

/// Persists the store's changes off the request path: the store queues writes (a lock and an
/// append, never I/O), and `run()` applies them in batches, one transaction each, on
/// `BlockingWork` threads. Recency touches are coalesced (one row update per entry per batch).
///
/// Lookups never wait for SQLite; a crash loses at most the writes of the last batch interval,
/// which for a cache means a few misses after restart.
final class CacheWriter: Sendable {
    private struct Pending {
        var writes: [CacheWrite] = []
        var touches: [UInt64: Int64] = [:]
    }

    let database: CacheDatabase
    let logger: Logger
    private let pending = Mutex(Pending())
    /// Serializes flushes (background loop and shutdown) so batches land in order.
    private let flushing = Mutex(())
    private let wake: AsyncStream<Void>.Continuation
    private let wakeups: AsyncStream<Void>

    init(database: CacheDatabase, logger: Logger) {
        self.database = database
        self.logger = logger
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues `write`.
    func enqueue(_ write: CacheWrite) {
        pending.withLock { $0.writes.append(write) }
        wake.yield()
    }

    /// Queues several writes.
    func enqueue(_ writes: [CacheWrite]) {
        guard !writes.isEmpty else { return }
        pending.withLock { $0.writes.append(contentsOf: writes) }
        wake.yield()
    }

    /// Records that `id` was used at `at` (persisted with the next batch).
    func touch(_ id: UInt64, at: Int64) {
        pending.withLock { $0.touches[id] = at }
    }

    /// Applies batches as they arrive until cancelled.
    func run() async throws {
        for await _ in wakeups {
            if Task.isCancelled { return }
            do {
                try await BlockingWork.run { [self] in try flushNow() }
            } catch {
                logger.error("cache write failed", ["error": .string(String(describing: error))])
            }
        }
    }

    /// Applies everything queued now, on the calling thread (used at shutdown and by `run`).
    func flushNow() throws {
        try flushing.withLock { _ in
            let batch = pending.withLock { p -> Pending in
                defer { p = Pending() }
                return p
            }
            if batch.writes.isEmpty && batch.touches.isEmpty { return }
            try database.apply(batch.writes, touches: batch.touches)
        }
    }

    /// Stops `run()` after its current batch.
    func finish() { wake.finish() }
}
