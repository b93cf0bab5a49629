/// Applies `Migration`s in order and records them in a `schema_migrations` table.
///
/// ```swift
/// let migrator = Migrator([
///     Migration(version: 1, name: "create users", sql: "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE);"),
///     Migration(version: 2, name: "add created_at", sql: "ALTER TABLE users ADD COLUMN created_at INTEGER;"),
/// ])
/// try migrator.migrate(database)  // at startup; a no-op when up to date
/// ```
///
/// Each pending migration runs in its own `BEGIN IMMEDIATE` transaction together with its
/// bookkeeping row, so a failure leaves the database at the previous version, and two processes
/// starting at once do not apply a migration twice. If the database already has a version newer
/// than any this code knows, `migrate` throws `MigrationError` (`.databaseNewerThanCode`)
/// without touching anything: old code must not run against a newer schema.
public struct Migrator: Sendable {
    /// The migrations, in the order given.
    public let migrations: [Migration]

    /// The table that records applied migrations.
    public static let tableName = "schema_migrations"

    /// Creates a migrator. The list is validated by `migrate`.
    public init(_ migrations: [Migration]) {
        self.migrations = migrations
    }

    /// The highest version this code knows (0 for an empty list).
    public var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The highest version recorded in the database (0 if none or no table yet).
    public func currentVersion(of database: SQLiteDatabase) throws -> Int {
        try appliedVersions(database).max() ?? 0
    }

    /// Applies every pending migration, in order, and returns the ones applied (empty when up to date).
    @discardableResult
    public func migrate(_ database: SQLiteDatabase) throws -> [Migration] {
        try validate()
        try database.execute(
            """
            CREATE TABLE IF NOT EXISTS \(Self.tableName) (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
            )
            """)
        try check(applied: appliedVersions(database))

        var applied: [Migration] = []
        for migration in migrations {
            let didApply = try database.transaction { transaction -> Bool in
                // Re-read under the write lock: another process may have migrated meanwhile.
                let versions = try Self.appliedVersions(transaction)
                if versions.contains(migration.version) { return false }
                try check(applied: versions)
                do {
                    try transaction.execute(migration.sql)
                } catch let error as SQLiteError {
                    throw MigrationError(
                        .migrationFailed(version: migration.version),
                        "migration \(migration.version) (\(migration.name)) failed and was rolled back",
                        underlying: error)
                }
                try transaction.run(
                    "INSERT INTO \(Self.tableName) (version, name) VALUES (?, ?)",
                    bindings: [.integer(Int64(migration.version)), .text(migration.name)])
                return true
            }
            if didApply { applied.append(migration) }
        }
        return applied
    }

    private func validate() throws {
        var previous = 0
        for migration in migrations {
            guard migration.version > previous, !migration.name.isEmpty else {
                throw MigrationError(
                    .invalidMigrationList,
                    "migration versions must be positive and strictly increasing, with names "
                        + "(problem at version \(migration.version) \"\(migration.name)\")")
            }
            previous = migration.version
        }
    }

    /// Refuses a database that is newer than the code, records unknown versions, or has gaps
    /// that would need out-of-order application.
    private func check(applied: Set<Int>) throws {
        let latest = latestVersion
        if let newest = applied.max(), newest > latest {
            throw MigrationError(
                .databaseNewerThanCode(databaseVersion: newest, latestKnownVersion: latest),
                "database schema is at version \(newest), newer than the latest migration this code knows "
                    + "(\(latest)); refusing to start. Deploy a build that includes migration \(newest) "
                    + "or restore a matching backup")
        }
        let known = Set(migrations.map(\.version))
        if let unknown = applied.subtracting(known).min() {
            throw MigrationError(
                .unknownAppliedVersion(unknown),
                "database records migration \(unknown), which this code does not have")
        }
        if let newest = applied.max(),
            let pending = migrations.first(where: { $0.version < newest && !applied.contains($0.version) })
        {
            throw MigrationError(
                .outOfOrder(pendingVersion: pending.version, appliedVersion: newest),
                "migration \(pending.version) is pending but \(newest) is already applied; "
                    + "new migrations must have higher versions")
        }
    }

    private func appliedVersions(_ database: SQLiteDatabase) throws -> Set<Int> {
        try Self.appliedVersions(database)
    }

    private static func appliedVersions(_ executor: some SQLiteExecutor) throws -> Set<Int> {
        let exists = try executor.queryFirst(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", bindings: [.text(tableName)])
        guard exists != nil else { return [] }
        return Set(try executor.query("SELECT version FROM \(tableName)").compactMap { $0.int("version") })
    }
}
