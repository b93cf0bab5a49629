import BulkheadStorage
import Testing

@Suite("SQLiteDatabase")
struct SQLiteDatabaseTests {
    @Test("Values round-trip with their types: integers, reals, unicode text, blobs, NULL")
    func typesRoundTrip() throws {
        let database = try SQLiteDatabase.inMemory()
        try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        let blob: [UInt8] = [0, 1, 2, 0xfe, 0xff, 0]
        let text = "héllo wörld ✓ 日本語 🚀 with a \0 NUL"
        try database.run(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
            bindings: [.integer(Int64.min), 3.25, .text(text), .blob(blob), nil])
        try database.run(
            "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
            bindings: [SQLiteValue(Int.max), SQLiteValue(-0.5), "", .blob([]), SQLiteValue(nil as String?)])

        let rows = try database.query("SELECT i, r, s, b, n FROM t ORDER BY rowid")
        #expect(rows.count == 2)
        #expect(rows[0].int64("i") == Int64.min)
        #expect(rows[0].double("r") == 3.25)
        #expect(rows[0].string("s") == text)
        #expect(rows[0].blob("b") == blob)
        #expect(rows[0].isNull("n"))
        #expect(rows[0]["n"] == .null)
        #expect(rows[0].string("n") == nil)

        #expect(rows[1].int("i") == Int.max)
        #expect(rows[1].double(1) == -0.5)
        #expect(rows[1].string(2) == "")  // empty text stays text, not NULL
        #expect(rows[1].blob(3) == [])  // empty blob stays a blob, not NULL
        #expect(rows[1][3] == .blob([]))

        // Wrong type, unknown column, out-of-range index: nil, never a crash.
        #expect(rows[0].int("s") == nil)
        #expect(rows[0].string("nope") == nil)
        #expect(rows[0].int(99) == nil)
        #expect(rows[0].int(-1) == nil)
        // Case-insensitive fallback, as in SQL.
        #expect(rows[0].int64("I") == Int64.min)
        // Integers read as doubles; booleans.
        #expect(rows[0].double("i") == Double(Int64.min))
        let flags = try database.query("SELECT ? AS yes, ? AS no", bindings: [true, false])
        #expect(flags.first?.bool("yes") == true)
        #expect(flags.first?.bool("no") == false)
    }

    @Test("run reports changes and last insert rowid")
    func runResult() throws {
        let database = try SQLiteDatabase.inMemory()
        try database.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT); ")
        let first = try database.run("INSERT INTO items (name) VALUES (?)", bindings: ["a"])
        #expect(first.changes == 1)
        #expect(first.lastInsertRowID == 1)
        let second = try database.run("INSERT INTO items (name) VALUES (?), (?)", bindings: ["b", "c"])
        #expect(second.lastInsertRowID == 3)
        let update = try database.run("UPDATE items SET name = upper(name)")
        #expect(update.changes == 3)
        #expect(try database.query("SELECT name FROM items ORDER BY id").compactMap { $0.string("name") } == ["A", "B", "C"])
    }

    @Test("A transaction rolls back when its body throws, and commits otherwise")
    func transactionRollback() throws {
        struct Boom: Error {}
        let database = try SQLiteDatabase.inMemory()
        try database.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
        try database.run("INSERT INTO accounts (balance) VALUES (100)")

        #expect(throws: Boom.self) {
            try database.transaction { transaction in
                try transaction.run("UPDATE accounts SET balance = balance - 60")
                try transaction.run("INSERT INTO accounts (balance) VALUES (60)")
                throw Boom()
            }
        }
        #expect(try database.query("SELECT balance FROM accounts").compactMap { $0.int("balance") } == [100])

        let total = try database.transaction { transaction -> Int in
            try transaction.run("UPDATE accounts SET balance = balance - 60")
            try transaction.run("INSERT INTO accounts (balance) VALUES (60)")
            return try transaction.queryFirst("SELECT sum(balance) AS total FROM accounts")?.int("total") ?? -1
        }
        #expect(total == 100)
        #expect(try database.query("SELECT balance FROM accounts ORDER BY id").compactMap { $0.int("balance") } == [40, 60])
    }

    @Test("Savepoints undo only their part; using the database inside a transaction is an error, not a deadlock")
    func savepointsAndReentrancy() throws {
        struct Boom: Error {}
        let database = try SQLiteDatabase.inMemory()
        try database.execute("CREATE TABLE log (message TEXT)")
        try database.transaction { transaction in
            try transaction.run("INSERT INTO log VALUES ('kept')")
            _ = try? transaction.savepoint { nested in
                try nested.run("INSERT INTO log VALUES ('undone')")
                throw Boom()
            }
            let error = #expect(throws: SQLiteError.self) { try database.query("SELECT 1") }
            #expect(error?.message.contains("transaction handle") == true)
        }
        #expect(try database.query("SELECT message FROM log").compactMap { $0.string(0) } == ["kept"])
    }

    @Test("Constraint violations surface as SQLiteError with codes and message")
    func constraintViolation() throws {
        let database = try SQLiteDatabase.inMemory()
        try database.execute(
            """
            CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);
            CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id));
            """)
        try database.run("INSERT INTO users (email) VALUES (?)", bindings: ["a@example.com"])

        let unique = #expect(throws: SQLiteError.self) {
            try database.run("INSERT INTO users (email) VALUES (?)", bindings: ["a@example.com"])
        }
        #expect(unique?.isConstraintViolation == true)
        #expect(unique?.code == 19)  // SQLITE_CONSTRAINT
        #expect(unique?.extendedCode == 2067)  // SQLITE_CONSTRAINT_UNIQUE
        #expect(unique?.message.contains("UNIQUE") == true)
        #expect(unique?.sql?.contains("INSERT INTO users") == true)

        let notNull = #expect(throws: SQLiteError.self) { try database.run("INSERT INTO users (email) VALUES (NULL)") }
        #expect(notNull?.extendedCode == 1299)  // SQLITE_CONSTRAINT_NOTNULL

        // foreign_keys is on.
        let foreign = #expect(throws: SQLiteError.self) { try database.run("INSERT INTO posts (user_id) VALUES (42)") }
        #expect(foreign?.extendedCode == 787)  // SQLITE_CONSTRAINT_FOREIGNKEY

        // The connection is still usable afterwards (statements were reset).
        #expect(try database.query("SELECT count(*) FROM users").first?.int(0) == 1)
    }

    @Test("Misuse is reported: wrong binding count, several statements in query, bad SQL")
    func misuse() throws {
        let database = try SQLiteDatabase.inMemory()
        #expect(throws: SQLiteError.self) { try database.query("SELECT ?", bindings: []) }
        #expect(throws: SQLiteError.self) { try database.query("SELECT 1", bindings: [1]) }
        #expect(throws: SQLiteError.self) { try database.query("SELECT 1; SELECT 2") }
        let syntax = #expect(throws: SQLiteError.self) { try database.query("SELEC 1") }
        #expect(syntax?.message.contains("syntax error") == true)
        #expect(try database.query("SELECT 1;  ").first?.int(0) == 1)
    }

    @Test("File databases use WAL, the configured synchronous mode and foreign keys")
    func pragmas() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try SQLiteDatabase(
            path: directory.file("wal.db"),
            configuration: SQLiteConfiguration(synchronous: .full, busyTimeoutMilliseconds: 1234))
        #expect(try database.journalMode() == "wal")
        #expect(try database.queryFirst("PRAGMA synchronous")?.int(0) == 2)  // FULL
        #expect(try database.queryFirst("PRAGMA busy_timeout")?.int(0) == 1234)
        #expect(try database.queryFirst("PRAGMA foreign_keys")?.int(0) == 1)

        let memory = try SQLiteDatabase.inMemory()
        #expect(try memory.journalMode() == "memory")
        #expect(try memory.queryFirst("PRAGMA synchronous")?.int(0) == 1)  // NORMAL
    }

    @Test("Concurrent use from many tasks neither crashes nor corrupts")
    func concurrentTasks() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let database = try SQLiteDatabase(path: directory.file("concurrent.db"))
        try database.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, worker INTEGER NOT NULL, seq INTEGER NOT NULL)")

        let workers = 8
        let perWorker = 50
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for seq in 0..<perWorker {
                        if seq % 10 == 0 {
                            try database.transaction { transaction in
                                try transaction.run(
                                    "INSERT INTO events (worker, seq) VALUES (?, ?)",
                                    bindings: [SQLiteValue(worker), SQLiteValue(seq)])
                            }
                        } else {
                            try database.run(
                                "INSERT INTO events (worker, seq) VALUES (?, ?)",
                                bindings: [SQLiteValue(worker), SQLiteValue(seq)])
                        }
                        _ = try database.query("SELECT count(*) FROM events WHERE worker = ?", bindings: [SQLiteValue(worker)])
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try database.queryFirst("SELECT count(*) AS n FROM events")?.int("n") == workers * perWorker)
        let perWorkerCounts = try database.query("SELECT worker, count(DISTINCT seq) AS n FROM events GROUP BY worker")
        #expect(perWorkerCounts.count == workers)
        #expect(perWorkerCounts.allSatisfy { $0.int("n") == perWorker })
        #expect(try database.queryFirst("PRAGMA integrity_check")?.string(0) == "ok")
    }

    @Test("Two connections to one file see each other's commits (WAL readers and writers)")
    func twoConnections() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = try SQLiteDatabase(path: directory.file("shared.db"))
        let reader = try SQLiteDatabase(path: directory.file("shared.db"))
        try writer.execute("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)")
        try writer.run("INSERT INTO kv VALUES (?, ?)", bindings: ["key", "value"])
        #expect(try reader.queryFirst("SELECT v FROM kv WHERE k = ?", bindings: ["key"])?.string("v") == "value")
    }
}
