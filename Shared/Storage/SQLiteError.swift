import CSQLite

/// An error reported by SQLite, or a misuse detected by `BulkheadStorage` itself.
public struct SQLiteError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The primary result code (`SQLITE_CONSTRAINT`, `SQLITE_BUSY`, ...).
    public var code: Int32
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, ...); equal to `code` when there is none.
    public var extendedCode: Int32
    /// SQLite's message (`sqlite3_errmsg`) or ours.
    public var message: String
    /// The statement that failed, when there was one.
    public var sql: String?

    /// Creates an error.
    public init(code: Int32, extendedCode: Int32? = nil, message: String, sql: String? = nil) {
        self.code = code
        self.extendedCode = extendedCode ?? code
        self.message = message
        self.sql = sql
    }

    /// A constraint failed (UNIQUE, NOT NULL, CHECK, FOREIGN KEY, PRIMARY KEY).
    public var isConstraintViolation: Bool { code == SQLITE_CONSTRAINT }
    /// The database was locked by another connection for longer than the busy timeout.
    public var isBusy: Bool { code == SQLITE_BUSY || code == SQLITE_LOCKED }

    /// SQLite's English name for the result code, for example `"constraint failed"`.
    public var codeDescription: String {
        sqlite3_errstr(extendedCode).map { String(cString: $0) } ?? "SQLite error \(extendedCode)"
    }

    /// Message, codes and statement on one line.
    public var description: String {
        var text = "SQLite error \(code)"
        if extendedCode != code { text += "/\(extendedCode)" }
        text += " (\(codeDescription)): \(message)"
        if let sql { text += " [\(sql)]" }
        return text
    }

    /// Misuse of this library (wrong binding count, nested database use, ...).
    static func misuse(_ message: String, sql: String? = nil) -> SQLiteError {
        SQLiteError(code: SQLITE_MISUSE, message: message, sql: sql)
    }
}
