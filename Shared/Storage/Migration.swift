/// One schema change: a version number, a human-readable name and the SQL script to run.
///
/// Versions must be positive and strictly increasing in the list given to `Migrator`. Never edit
/// or reorder a migration that has shipped; append a new one. The script runs inside a
/// transaction, so it must not contain `BEGIN`/`COMMIT` (and `PRAGMA foreign_keys` has no
/// effect there).
public struct Migration: Sendable, Hashable {
    /// The schema version this migration brings the database to.
    public let version: Int
    /// A short description, recorded in `schema_migrations`.
    public let name: String
    /// The SQL script.
    public let sql: String

    /// Creates a migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}
