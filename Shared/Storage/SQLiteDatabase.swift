import CSQLite
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A SQLite database: one connection, safe to share between tasks and threads.
///
/// Thread safety: the connection (opened `SQLITE_OPEN_NOMUTEX`) and its statement cache live in
/// a `Mutex`; every call holds the lock for its whole duration, so calls from many tasks are
/// serialised and never interleave. Calls block the calling thread while SQLite works (keep
/// statements short; rows are read eagerly). A `transaction` body runs with the lock held:
/// inside it, use the `SQLiteTransaction` handle; calling back into the database from the body
/// throws `SQLITE_MISUSE` instead of deadlocking.
///
/// Opening applies: `journal_mode=WAL` (file databases), `synchronous` from the configuration,
/// `busy_timeout`, and `foreign_keys=ON`.
public final class SQLiteDatabase: SQLiteExecutor, Sendable {
    /// The database file path, or `":memory:"`.
    public let path: String
    /// The settings the database was opened with.
    public let configuration: SQLiteConfiguration

    private let connection: Mutex<SQLiteConnection>
    /// The thread currently holding `connection`'s lock (0 when none), to catch re-entrant use.
    private let owner = Atomic<UInt>(0)

    /// Opens (creating if needed) the database file at `path`, creating missing parent directories.
    public convenience init(path: String, configuration: SQLiteConfiguration = SQLiteConfiguration()) throws {
        try Self.createParentDirectories(of: path)
        try self.init(opening: path, configuration: configuration)
    }

    /// Opens a private, empty in-memory database (it disappears when this object does).
    public static func inMemory(configuration: SQLiteConfiguration = SQLiteConfiguration()) throws -> SQLiteDatabase {
        try SQLiteDatabase(opening: ":memory:", configuration: configuration)
    }

    private init(opening path: String, configuration: SQLiteConfiguration) throws {
        let connection = try SQLiteConnection(path: path, cacheCapacity: configuration.statementCacheCapacity)
        sqlite3_busy_timeout(connection.handle, max(0, configuration.busyTimeoutMilliseconds))
        if path != ":memory:" && !path.isEmpty {  // "" is a private temporary database.
            let mode = try connection.query("PRAGMA journal_mode = WAL", []).first?.string(0)
            guard mode?.lowercased() == "wal" else {
                throw SQLiteError(code: SQLITE_ERROR, message: "could not enable WAL mode (got \(mode ?? "nothing"))")
            }
        }
        try connection.execute("PRAGMA synchronous = \(configuration.synchronous.rawValue)")
        try connection.execute("PRAGMA foreign_keys = ON")
        self.path = path
        self.configuration = configuration
        self.connection = Mutex(connection)
    }

    /// Runs `body` with the lock held, after checking this thread does not already hold it.
    private func locked<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let me = Self.currentThreadID()
        guard owner.load(ordering: .relaxed) != me else {
            throw SQLiteError.misuse(
                "SQLiteDatabase used from inside its own transaction; use the transaction handle instead")
        }
        return try connection.withLock { connection throws -> T in
            owner.store(me, ordering: .relaxed)
            defer { owner.store(0, ordering: .relaxed) }
            return try body(connection)
        }
    }

    public func execute(_ sql: String) throws {
        try locked { try $0.execute(sql) }
    }

    public func query(_ sql: String, bindings: [SQLiteValue]) throws -> [SQLiteRow] {
        try locked { try $0.query(sql, bindings) }
    }

    @discardableResult
    public func run(_ sql: String, bindings: [SQLiteValue]) throws -> (changes: Int, lastInsertRowID: Int64) {
        let result = try locked { connection -> RunResult in
            let (changes, rowID) = try connection.run(sql, bindings)
            return RunResult(changes: changes, lastInsertRowID: rowID)
        }
        return (result.changes, result.lastInsertRowID)
    }

    private struct RunResult: Sendable {
        let changes: Int
        let lastInsertRowID: Int64
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: committed if it returns, rolled back
    /// (and the error rethrown) if it throws or the commit fails.
    ///
    /// IMMEDIATE takes the write lock up front, so two writers wait for each other (up to the
    /// busy timeout) instead of failing midway. No other call on this database runs meanwhile.
    @discardableResult
    public func transaction<T: Sendable>(_ body: (SQLiteTransaction) throws -> T) throws -> T {
        try locked { connection in
            try connection.execute("BEGIN IMMEDIATE")
            let transaction = SQLiteTransaction(connection: connection)
            defer { transaction.isActive = false }
            do {
                let result = try body(transaction)
                try connection.execute("COMMIT")
                return result
            } catch {
                // Some errors (for example SQLITE_FULL) already ended the transaction.
                if !connection.isAutocommit { try? connection.execute("ROLLBACK") }
                throw error
            }
        }
    }

    /// The current journal mode (`"wal"` for file databases, `"memory"` in memory).
    public func journalMode() throws -> String {
        try query("PRAGMA journal_mode").first?.string(0) ?? ""
    }

    private static func currentThreadID() -> UInt {
        #if canImport(Glibc)
        return UInt(pthread_self())
        #else
        return UInt(bitPattern: pthread_self())
        #endif
    }

    /// `mkdir -p` for the directory part of `path`.
    private static func createParentDirectories(of path: String) throws {
        guard let slash = path.lastIndex(of: "/") else { return }
        let directory = String(path[..<slash])
        guard !directory.isEmpty else { return }
        var current = directory.hasPrefix("/") ? "" : "."
        for component in directory.split(separator: "/") where !component.isEmpty {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw SQLiteError(
                    code: SQLITE_CANTOPEN,
                    message: "cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }
}
