/// One change to persist, queued by the store in the order it happened in memory.
enum CacheWrite: Sendable {
    case putNamespace(NamespaceID, dimension: Int?, createdAt: Int64)
    case putEntry(StoredEntry)
    case deleteEntry(UInt64)
    case deleteNamespace(NamespaceID)
    case deleteTenant(String)
}

/// An entry's row: everything needed to rebuild it (and its index vector) after a restart.
struct StoredEntry: Sendable {
    var namespace: NamespaceID
    var entry: CacheEntry
    /// The vector as given (not normalized), Float32 little-endian in the BLOB.
    var vector: [Float]?
    var lastUsedAt: Int64
}
