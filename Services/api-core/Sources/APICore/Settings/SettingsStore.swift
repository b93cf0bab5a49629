import BulkheadStorage
import Foundation
import Shared

/// Settings documents in their own SQLite file (`DATA_DIR/settings.sqlite`), apart from the
/// job store, so AI traffic never holds the lock a settings call waits for.
///
/// A document is keyed by a scope: `user:<tenant>:<user>` or `tenant:<tenant>`. Each write
/// bumps its version; the version is the ETag.
final class SettingsStore: Sendable {
    let database: SQLiteDatabase

    static let migrations = Migrator([
        Migration(
            version: 1, name: "settings",
            sql: """
                CREATE TABLE settings (
                    scope TEXT PRIMARY KEY,
                    document TEXT NOT NULL,
                    version INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                """)
    ])

    init(path: String) throws {
        database = try SQLiteDatabase(path: path)
        _ = try Self.migrations.migrate(database)
    }

    /// A stored document with its version (version 0 and `{}` when never written).
    struct Entry: Sendable, Equatable {
        var document: String
        var version: Int64
        var updatedAt: Int64?
    }

    func read(_ scope: String) throws -> Entry {
        guard let row = try database.queryFirst("SELECT document, version, updated_at FROM settings WHERE scope = ?", bindings: [.text(scope)])
        else { return Entry(document: "{}", version: 0, updatedAt: nil) }
        return Entry(document: row.string("document") ?? "{}", version: row.int64("version") ?? 0, updatedAt: row.int64("updated_at"))
    }

    /// The outcome of a conditional write.
    enum WriteResult: Sendable {
        case written(Entry)
        /// `If-Match` named another version: the current entry.
        case preconditionFailed(Entry)
    }

    /// Reads, transforms and writes the document in one transaction, so concurrent writers with
    /// the same `If-Match` cannot both win.
    /// - Parameters:
    ///   - expectedVersion: the version `If-Match` named, nil for an unconditional write.
    ///   - transform: the new document's canonical text from the current one; may throw to refuse.
    func write(
        _ scope: String, expectedVersion: Int64?, now: Int64, transform: (String) throws -> String
    ) throws -> WriteResult {
        try database.transaction { tx in
            let row = try tx.query("SELECT document, version, updated_at FROM settings WHERE scope = ?", bindings: [.text(scope)]).first
            let current = Entry(
                document: row?.string("document") ?? "{}", version: row?.int64("version") ?? 0, updatedAt: row?.int64("updated_at"))
            if let expectedVersion, expectedVersion != current.version { return .preconditionFailed(current) }
            let next = try transform(current.document)
            let version = current.version + 1
            try tx.run(
                """
                INSERT INTO settings (scope, document, version, updated_at) VALUES (?, ?, ?, ?)
                ON CONFLICT(scope) DO UPDATE SET document = excluded.document, version = excluded.version, updated_at = excluded.updated_at
                """, bindings: [.text(scope), .text(next), .integer(version), .integer(now)])
            return .written(Entry(document: next, version: version, updatedAt: now))
        }
    }
}
