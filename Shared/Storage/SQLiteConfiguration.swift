/// Connection settings applied when a `SQLiteDatabase` opens.
///
/// File databases always use WAL journal mode and enforce foreign keys.
public struct SQLiteConfiguration: Sendable, Hashable {
    /// `PRAGMA synchronous`.
    public enum Synchronous: String, Sendable, Hashable {
        /// Durable except for the last transactions before a power loss (safe from corruption in WAL mode).
        case normal = "NORMAL"
        /// Every commit is synced to disk.
        case full = "FULL"
    }

    /// `PRAGMA synchronous`. Default `.normal`.
    public var synchronous: Synchronous
    /// How long a statement waits for another connection's lock before `SQLITE_BUSY`, in milliseconds.
    public var busyTimeoutMilliseconds: Int32
    /// How many prepared statements to keep, keyed by SQL text.
    public var statementCacheCapacity: Int

    /// Creates settings.
    public init(synchronous: Synchronous = .normal, busyTimeoutMilliseconds: Int32 = 5_000, statementCacheCapacity: Int = 128) {
        self.synchronous = synchronous
        self.busyTimeoutMilliseconds = busyTimeoutMilliseconds
        self.statementCacheCapacity = statementCacheCapacity
    }
}
