/// Why `Migrator.migrate` refused to run or stopped.
public struct MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem.
    public enum Kind: Sendable, Equatable {
        /// The code's migration list is malformed (non-positive, duplicate or unordered versions, empty name).
        case invalidMigrationList
        /// The database was migrated by newer code: it has `databaseVersion`, this code knows up to `latestKnownVersion`.
        case databaseNewerThanCode(databaseVersion: Int, latestKnownVersion: Int)
        /// The database records a version this code has no migration for.
        case unknownAppliedVersion(Int)
        /// A migration is pending although a later one is already applied (migrations must only be appended).
        case outOfOrder(pendingVersion: Int, appliedVersion: Int)
        /// A migration's SQL failed; its transaction was rolled back.
        case migrationFailed(version: Int)
    }

    /// The kind of problem.
    public let kind: Kind
    /// A sentence explaining it, fit for a startup log.
    public let message: String
    /// The SQLite error, for `.migrationFailed`.
    public let underlying: SQLiteError?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, underlying: SQLiteError? = nil) {
        self.kind = kind
        self.message = message
        self.underlying = underlying
    }

    /// The message, with the SQLite error if any.
    public var description: String {
        underlying.map { "\(message): \($0)" } ?? message
    }
}
