/// The handle a `SQLiteDatabase.transaction` body runs SQL through.
///
/// It is only valid inside the body (using it afterwards throws) and is deliberately not
/// `Sendable`: the body runs on the thread holding the database lock, so the handle must not
/// be handed to other tasks. Inside the body, use this handle, not the database (that would
/// throw a re-entrancy error rather than deadlock).
public final class SQLiteTransaction: SQLiteExecutor {
    private let connection: SQLiteConnection
    var isActive = true

    init(connection: SQLiteConnection) {
        self.connection = connection
    }

    private func active() throws -> SQLiteConnection {
        guard isActive else { throw SQLiteError.misuse("transaction handle used after its transaction ended") }
        return connection
    }

    public func execute(_ sql: String) throws {
        try active().execute(sql)
    }

    public func query(_ sql: String, bindings: [SQLiteValue]) throws -> [SQLiteRow] {
        try active().query(sql, bindings)
    }

    @discardableResult
    public func run(_ sql: String, bindings: [SQLiteValue]) throws -> (changes: Int, lastInsertRowID: Int64) {
        try active().run(sql, bindings)
    }

    /// Runs `body` in a nested savepoint: its changes are undone if it throws, while the
    /// enclosing transaction carries on.
    @discardableResult
    public func savepoint<T>(_ body: (SQLiteTransaction) throws -> T) throws -> T {
        let connection = try active()
        connection.savepointDepth += 1
        defer { connection.savepointDepth -= 1 }
        let name = "bulkhead_savepoint_\(connection.savepointDepth)"
        try connection.execute("SAVEPOINT \(name)")
        let nested = SQLiteTransaction(connection: connection)
        defer { nested.isActive = false }
        do {
            let result = try body(nested)
            try connection.execute("RELEASE \(name)")
            return result
        } catch {
            if !connection.isAutocommit {
                try? connection.execute("ROLLBACK TO \(name)")
                try? connection.execute("RELEASE \(name)")
            }
            throw error
        }
    }
}
