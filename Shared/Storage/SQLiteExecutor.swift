/// Something that runs SQL: a `SQLiteDatabase`, or the `SQLiteTransaction` handed to a
/// transaction body. Write data-access helpers against this to use them in both places.
public protocol SQLiteExecutor {
    /// Runs a script of one or more `;`-separated statements, without bindings or results.
    func execute(_ sql: String) throws
    /// Runs one statement with `?` placeholders bound to `bindings`, returning every row.
    func query(_ sql: String, bindings: [SQLiteValue]) throws -> [SQLiteRow]
    /// Runs one statement with `?` placeholders bound to `bindings`, returning the number of
    /// rows changed and the last inserted rowid on this connection.
    @discardableResult
    func run(_ sql: String, bindings: [SQLiteValue]) throws -> (changes: Int, lastInsertRowID: Int64)
}

extension SQLiteExecutor {
    /// Runs a statement without bindings, returning every row.
    public func query(_ sql: String) throws -> [SQLiteRow] {
        try query(sql, bindings: [])
    }

    /// Runs a statement without bindings.
    @discardableResult
    public func run(_ sql: String) throws -> (changes: Int, lastInsertRowID: Int64) {
        try run(sql, bindings: [])
    }

    /// The first row, or `nil` if there is none.
    public func queryFirst(_ sql: String, bindings: [SQLiteValue] = []) throws -> SQLiteRow? {
        try query(sql, bindings: bindings).first
    }
}
