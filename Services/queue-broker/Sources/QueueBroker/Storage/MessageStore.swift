import BulkheadHTTP
import BulkheadStorage
import Dispatch
import Foundation
import Synchronization

/// SQLite persistence with group commit.
///
/// Callers `enqueue` operations synchronously (so their order is the order of the engine's
/// changes) and get a sequence number; `waitCommitted(_:)` suspends until a transaction that
/// includes it has committed. One writer thread (not a cooperative thread: an fsync must not
/// stall the Swift pool) takes everything pending, applies it in one `BEGIN IMMEDIATE`
/// transaction and resumes every waiter of that batch: concurrent requests share one fsync.
///
/// Durability: WAL with `synchronous=FULL` by default, so a commit is fsynced before any
/// waiter is resumed; an answered send survives kill -9 and power loss. With `NORMAL` the WAL
/// is fsynced only at checkpoints: answered sends survive kill -9 (the data is in the OS page
/// cache) but the last ones may be lost on power loss.
///
/// Stream appends may defer their fsync (`streamSyncInterval` > 0, with `FULL`): a batch that
/// only touches streams commits without one, and is made durable by the next queue commit (its
/// fsync covers every WAL frame before it) or by a checkpoint once the interval has passed,
/// whichever comes first. Token deltas then cost no fsync each: a fleet of streaming jobs
/// appends hundreds of events a second, and an fsync per append stalls every other writer on
/// the same disk (settings saves among them). Queue operations are always fsynced before they
/// are answered.
public final class MessageStore: Sendable {
    /// The database.
    public let database: SQLiteDatabase

    private struct Pending: Sendable {
        var ops: [StoreOperation] = []
        var nextSeq: UInt64 = 0
        var committedSeq: UInt64 = 0
        var waiters: [(seq: UInt64, continuation: CheckedContinuation<Void, any Error>)] = []
        var failure: (from: UInt64, through: UInt64, error: String)?
        var closed = false
        var writerDone = false
    }
    private let state = Mutex(Pending())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    /// Transactions committed (for tests and the benchmark: how well commits are shared).
    public let commits = Atomic<Int>(0)
    /// Commits made without an fsync because they only appended to streams.
    public let deferredCommits = Atomic<Int>(0)
    /// Checkpoints run to make deferred stream commits durable when no queue commit did.
    public let deferredSyncs = Atomic<Int>(0)

    private let synchronous: SQLiteConfiguration.Synchronous
    /// Longest a stream-only commit stays without an fsync; zero: every commit is fsynced.
    private let streamSyncInterval: Duration

    /// Opens (creating) the database at `path` and starts the writer thread.
    public init(path: String, synchronous: SQLiteConfiguration.Synchronous, streamSyncInterval: Duration = .zero) throws {
        database = try SQLiteDatabase(path: path, configuration: SQLiteConfiguration(synchronous: synchronous))
        self.synchronous = synchronous
        self.streamSyncInterval = streamSyncInterval
        try Self.migrator.migrate(database)
        let thread = Thread { [self] in
            ThreadName.setCurrent("broker-writer")
            self.writerLoop()
        }
        thread.name = "broker-writer"
        thread.start()
    }

    static let migrator = Migrator([
        Migration(
            version: 1, name: "queues, messages, dedup, streams",
            sql: """
                CREATE TABLE queues (name TEXT PRIMARY KEY, settings BLOB NOT NULL);
                CREATE TABLE messages (
                    id INTEGER PRIMARY KEY, queue TEXT NOT NULL, tenant TEXT NOT NULL, priority INTEGER NOT NULL,
                    body BLOB NOT NULL, attributes BLOB NOT NULL, idempotency_key TEXT, sent_at INTEGER NOT NULL,
                    visible_at INTEGER NOT NULL, receive_count INTEGER NOT NULL, first_received_at INTEGER,
                    last_received_at INTEGER, state INTEGER NOT NULL, dead_at INTEGER, dead_reason TEXT, source_queue TEXT);
                CREATE INDEX messages_by_queue ON messages (queue);
                CREATE TABLE dedup (queue TEXT NOT NULL, key TEXT NOT NULL, id INTEGER NOT NULL, expires INTEGER NOT NULL,
                    PRIMARY KEY (queue, key)) WITHOUT ROWID;
                CREATE TABLE stream_events (stream TEXT NOT NULL, id INTEGER NOT NULL, type TEXT, data BLOB NOT NULL,
                    time INTEGER NOT NULL, PRIMARY KEY (stream, id)) WITHOUT ROWID;
                CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                """)
    ])

    /// Queues operations for the next transaction; returns the sequence number to wait for.
    @discardableResult
    public func enqueue(_ ops: [StoreOperation]) -> UInt64 {
        guard !ops.isEmpty else { return state.withLock { $0.nextSeq } }
        let (seq, signal) = state.withLock { s -> (UInt64, Bool) in
            let wasEmpty = s.ops.isEmpty
            s.ops.append(contentsOf: ops)
            s.nextSeq += 1
            return (s.nextSeq, wasEmpty)
        }
        if signal { wake.signal() }
        return seq
    }

    /// Suspends until everything up to `seq` is committed; throws if its transaction failed.
    public func waitCommitted(_ seq: UInt64) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { s -> Result<Bool, StoreFailure> in
                if let f = s.failure, seq >= f.from, seq <= f.through { return .failure(StoreFailure(message: f.error)) }
                if seq <= s.committedSeq { return .success(true) }
                if s.closed { return .failure(StoreFailure(message: "store is closed")) }
                s.waiters.append((seq, c))
                return .success(false)
            }
            switch outcome {
            case .success(true): c.resume()
            case .success(false): break
            case .failure(let e): c.resume(throwing: e)
            }
        }
    }

    /// Commits what is pending, stops the writer and waits for it.
    public func close() {
        let first = state.withLock { s -> Bool in
            defer { s.closed = true }
            return !s.closed
        }
        guard first else { return }
        wake.signal()
        finished.wait()
    }

    private func writerLoop() {
        let deferring = synchronous == .full && streamSyncInterval > .zero
        // The first stream-only commit not yet fsynced (writer thread only).
        var unsyncedSince: ContinuousClock.Instant?
        var fullSync = true
        while true {
            if let since = unsyncedSince {
                let left = streamSyncInterval - (ContinuousClock.now - since)
                let nanos = max(0, left.components.seconds * 1_000_000_000 + left.components.attoseconds / 1_000_000_000)
                if wake.wait(timeout: .now() + .nanoseconds(Int(nanos))) == .timedOut {
                    syncDeferred()
                    unsyncedSince = nil
                    continue
                }
            } else {
                wake.wait()
            }
            while true {
                let (ops, through, closed) = state.withLock { s -> ([StoreOperation], UInt64, Bool) in
                    let ops = s.ops
                    s.ops = []
                    return (ops, s.nextSeq, s.closed)
                }
                if ops.isEmpty {
                    if closed {
                        if unsyncedSince != nil { syncDeferred() }
                        finishWaiters(error: StoreFailure(message: "store is closed"))
                        finished.signal()
                        return
                    }
                    break
                }
                let deferred = deferring && ops.allSatisfy(\.isStreamOperation)
                    && (unsyncedSince.map { ContinuousClock.now - $0 < streamSyncInterval } ?? true)
                var failure: String?
                do {
                    if deferring && deferred == fullSync {
                        try database.execute(deferred ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL")
                        fullSync = !deferred
                    }
                    try database.transaction { t in try Self.apply(ops, to: t) }
                    commits.add(1, ordering: .relaxed)
                    if deferred {
                        deferredCommits.add(1, ordering: .relaxed)
                        if unsyncedSince == nil { unsyncedSince = ContinuousClock.now }
                    } else {
                        // An fsynced commit makes every earlier WAL frame durable too.
                        unsyncedSince = nil
                    }
                } catch {
                    failure = String(describing: error)
                }
                let ready = state.withLock { s -> [(CheckedContinuation<Void, any Error>, Bool)] in
                    if let failure {
                        s.failure = (s.committedSeq + 1, through, failure)
                    }
                    s.committedSeq = through
                    var out: [(CheckedContinuation<Void, any Error>, Bool)] = []
                    s.waiters.removeAll { w in
                        guard w.seq <= through else { return false }
                        out.append((w.continuation, failure == nil))
                        return true
                    }
                    return out
                }
                for (c, ok) in ready {
                    if ok { c.resume() } else { c.resume(throwing: StoreFailure(message: failure ?? "commit failed")) }
                }
            }
        }
    }

    /// Makes deferred stream commits durable: a passive checkpoint fsyncs the WAL before it
    /// copies it back (SQLite does so at every synchronous level but OFF).
    private func syncDeferred() {
        _ = try? database.query("PRAGMA wal_checkpoint(PASSIVE)", bindings: [])
        deferredSyncs.add(1, ordering: .relaxed)
    }

    private func finishWaiters(error: StoreFailure) {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            defer { s.waiters = [] }
            return s.waiters.map(\.continuation)
        }
        for w in waiters { w.resume(throwing: error) }
    }
}

/// A failed commit.
public struct StoreFailure: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { "storage failure: \(message)" }
}
