import CSQLite

/// The raw connection: an `sqlite3*` plus prepared statements cached by SQL text.
///
/// Not thread-safe and not Sendable: `SQLiteDatabase` keeps it inside a `Mutex` and only
/// touches it with the lock held. Opened with `SQLITE_OPEN_NOMUTEX` for that reason.
final class SQLiteConnection {
    let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]
    private let cacheCapacity: Int
    /// Depth of nested savepoints inside the current transaction.
    var savepointDepth = 0

    /// `SQLITE_TRANSIENT`: SQLite copies bound text and blobs before the bind call returns.
    private static var transient: sqlite3_destructor_type {
        unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    }

    init(path: String, cacheCapacity: Int) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard let handle else {
            throw SQLiteError(code: result, message: "cannot open database at \(path): out of memory")
        }
        guard result == SQLITE_OK else {
            let error = SQLiteError(
                code: result, extendedCode: sqlite3_extended_errcode(handle),
                message: "cannot open database at \(path): \(String(cString: sqlite3_errmsg(handle)))")
            sqlite3_close_v2(handle)
            throw error
        }
        sqlite3_extended_result_codes(handle, 1)
        self.handle = handle
        self.cacheCapacity = max(0, cacheCapacity)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    /// An error from the connection's current state.
    func error(_ result: Int32, sql: String?) -> SQLiteError {
        SQLiteError(
            code: result & 0xFF, extendedCode: sqlite3_extended_errcode(handle),
            message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs one or more `;`-separated statements, without bindings or results.
    func execute(_ sql: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        let result = sqlite3_exec(handle, sql, nil, nil, &message)
        defer { sqlite3_free(message) }
        guard result == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            throw SQLiteError(code: result & 0xFF, extendedCode: sqlite3_extended_errcode(handle), message: text, sql: sql)
        }
    }

    /// Runs one statement and returns every row.
    func query(_ sql: String, _ bindings: [SQLiteValue]) throws -> [SQLiteRow] {
        try withStatement(sql, bindings) { statement in
            let columnCount = Int(sqlite3_column_count(statement))
            let columns = (0..<columnCount).map { index in
                sqlite3_column_name(statement, Int32(index)).map { String(cString: $0) } ?? ""
            }
            var rows: [SQLiteRow] = []
            while try step(statement, sql: sql) {
                let values = (0..<columnCount).map { Self.column(statement, Int32($0)) }
                rows.append(SQLiteRow(columns: columns, values: values))
            }
            return rows
        }
    }

    /// Runs one statement to completion and reports its effect.
    func run(_ sql: String, _ bindings: [SQLiteValue]) throws -> (changes: Int, lastInsertRowID: Int64) {
        try withStatement(sql, bindings) { statement in
            while try step(statement, sql: sql) {}
            return (Int(sqlite3_changes64(handle)), sqlite3_last_insert_rowid(handle))
        }
    }

    /// Steps once: `true` for a row, `false` when done.
    private func step(_ statement: OpaquePointer, sql: String) throws -> Bool {
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let result: throw error(result, sql: sql)
        }
    }

    /// Gets a (cached) statement, binds, runs `body`, and always resets the statement.
    private func withStatement<R>(_ sql: String, _ bindings: [SQLiteValue], _ body: (OpaquePointer) throws -> R) throws -> R {
        let statement = try prepare(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == bindings.count else {
            throw SQLiteError.misuse("statement takes \(expected) bindings, got \(bindings.count)", sql: sql)
        }
        for (offset, value) in bindings.enumerated() {
            let result = bind(value, to: statement, at: Int32(offset + 1))
            guard result == SQLITE_OK else { throw error(result, sql: sql) }
        }
        return try body(statement)
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        if let cached = statements[sql] { return cached }
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let result = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
        guard result == SQLITE_OK else { throw error(result, sql: sql) }
        guard let statement else { throw SQLiteError.misuse("no statement in SQL (empty or only comments)", sql: sql) }
        if let tail, !String(cString: tail).allSatisfy({ $0.isWhitespace || $0 == ";" }) {
            sqlite3_finalize(statement)
            throw SQLiteError.misuse("query/run take exactly one statement; use execute for scripts", sql: sql)
        }
        if statements.count >= cacheCapacity {
            for cached in statements.values { sqlite3_finalize(cached) }
            statements.removeAll(keepingCapacity: true)
        }
        if cacheCapacity > 0 { statements[sql] = statement }
        return statement
    }

    private func bind(_ value: SQLiteValue, to statement: OpaquePointer, at index: Int32) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(statement, index)
        case let .integer(number):
            return sqlite3_bind_int64(statement, index, number)
        case let .real(number):
            return sqlite3_bind_double(statement, index, number)
        case let .text(text):
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBufferPointer { buffer in
                // A non-NULL pointer even for "", so empty text stays text (not NULL).
                buffer.baseAddress.map { base in
                    base.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                        sqlite3_bind_text64(statement, index, $0, UInt64(buffer.count), Self.transient, UInt8(SQLITE_UTF8))
                    }
                } ?? sqlite3_bind_text(statement, index, "", 0, Self.transient)
            }
        case let .blob(bytes):
            if bytes.isEmpty { return sqlite3_bind_zeroblob(statement, index, 0) }
            return bytes.withUnsafeBytes { buffer in
                sqlite3_bind_blob64(statement, index, buffer.baseAddress, UInt64(buffer.count), Self.transient)
            }
        }
    }

    private static func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            guard let text = sqlite3_column_text(statement, index) else { return .text("") }
            let count = Int(sqlite3_column_bytes(statement, index))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard count > 0, let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            return .null
        }
    }

    /// Whether the connection is outside any transaction (autocommit mode).
    var isAutocommit: Bool { sqlite3_get_autocommit(handle) != 0 }
}
