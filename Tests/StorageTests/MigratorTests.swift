import BulkheadStorage
import Testing

@Suite("Migrations")
struct MigratorTests {
    static let v1 = Migration(
        version: 1, name: "create users",
        sql: "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);")
    static let v2 = Migration(
        version: 2, name: "create sessions",
        sql: """
            CREATE TABLE sessions (
                id INTEGER PRIMARY KEY,
                user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE
            );
            CREATE INDEX sessions_user ON sessions(user_id);
            """)
    static let v3 = Migration(version: 3, name: "add created_at", sql: "ALTER TABLE users ADD COLUMN created_at INTEGER;")

    @Test("Migrations apply once, in order, and are idempotent across reopen")
    func applyOnceAcrossReopen() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("nested/dir/app.db")  // parent directories are created

        do {
            let database = try SQLiteDatabase(path: path)
            let applied = try Migrator([Self.v1, Self.v2]).migrate(database)
            #expect(applied.map(\.version) == [1, 2])
            #expect(try Migrator([Self.v1, Self.v2]).migrate(database).isEmpty)
            try database.run("INSERT INTO users (email) VALUES (?)", bindings: ["a@example.com"])
        }
        do {
            let database = try SQLiteDatabase(path: path)
            let migrator = Migrator([Self.v1, Self.v2, Self.v3])
            #expect(try migrator.currentVersion(of: database) == 2)
            #expect(try migrator.migrate(database).map(\.version) == [3])
            #expect(try migrator.migrate(database).isEmpty)
            #expect(try migrator.currentVersion(of: database) == 3)
            // Data survived, and the new column exists.
            let row = try database.queryFirst("SELECT email, created_at FROM users")
            #expect(row?.string("email") == "a@example.com")
            #expect(row?.isNull("created_at") == true)
            let recorded = try database.query("SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
            #expect(recorded.compactMap { $0.int("version") } == [1, 2, 3])
            #expect(recorded.first?.string("name") == "create users")
            #expect(recorded.allSatisfy { $0.string("applied_at")?.isEmpty == false })
        }
    }

    @Test("A database newer than the code is refused with a clear error")
    func newerDatabaseRefused() throws {
        let database = try SQLiteDatabase.inMemory()
        try Migrator([Self.v1, Self.v2, Self.v3]).migrate(database)
        let error = #expect(throws: MigrationError.self) { try Migrator([Self.v1, Self.v2]).migrate(database) }
        #expect(error?.kind == .databaseNewerThanCode(databaseVersion: 3, latestKnownVersion: 2))
        #expect(error?.message.contains("newer") == true)
        #expect(error?.message.contains("refusing to start") == true)
    }

    @Test("A failing migration rolls back entirely and stops at the previous version")
    func failingMigrationRollsBack() throws {
        let database = try SQLiteDatabase.inMemory()
        let broken = Migration(
            version: 2, name: "broken",
            sql: "CREATE TABLE partial (id INTEGER); INSERT INTO missing_table VALUES (1);")
        let error = #expect(throws: MigrationError.self) { try Migrator([Self.v1, broken]).migrate(database) }
        #expect(error?.kind == .migrationFailed(version: 2))
        #expect(error?.underlying != nil)
        #expect(try Migrator([Self.v1]).currentVersion(of: database) == 1)
        let partial = try database.query("SELECT name FROM sqlite_master WHERE name = 'partial'")
        #expect(partial.isEmpty)
        // Fixed code can then proceed.
        #expect(try Migrator([Self.v1, Self.v2]).migrate(database).map(\.version) == [2])
    }

    @Test("Malformed lists, unknown and out-of-order versions are refused")
    func invalidLists() throws {
        let database = try SQLiteDatabase.inMemory()
        let unordered = #expect(throws: MigrationError.self) { try Migrator([Self.v2, Self.v1]).migrate(database) }
        #expect(unordered?.kind == .invalidMigrationList)
        let zero = Migration(version: 0, name: "zero", sql: "")
        #expect(throws: MigrationError.self) { try Migrator([zero]).migrate(database) }

        try Migrator([Self.v1, Self.v3]).migrate(database)
        let gap = #expect(throws: MigrationError.self) { try Migrator([Self.v1, Self.v2, Self.v3]).migrate(database) }
        #expect(gap?.kind == .outOfOrder(pendingVersion: 2, appliedVersion: 3))

        let renumbered = Migration(version: 4, name: "other", sql: "SELECT 1;")
        let unknown = #expect(throws: MigrationError.self) { try Migrator([Self.v1, renumbered]).migrate(database) }
        #expect(unknown?.kind == .unknownAppliedVersion(3))
    }
}
