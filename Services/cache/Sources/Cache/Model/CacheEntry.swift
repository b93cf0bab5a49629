/// One cached response as the store keeps it in memory (its vector lives in the namespace's
/// `VectorIndex`, not here; the database keeps a copy for restarts).
struct CacheEntry: Sendable {
    /// Store-wide id: the `VectorIndex` id and the database row id.
    var id: UInt64
    var key: String
    /// The response as compact JSON text, returned without re-encoding.
    var response: [UInt8]
    /// The usage of the original call as JSON text, if given.
    var usage: [UInt8]?
    var costMicroUSD: Int
    var createdAt: Int64
    var expiresAt: Int64
    /// What the entry counts against the byte limits (see `CacheEntry.size`).
    var bytes: Int
    var hasVector: Bool

    /// Bytes an entry counts: key + response + usage + 4 per vector component + 64 of
    /// bookkeeping, so byte limits track what the process really holds.
    static func size(key: String, response: [UInt8], usage: [UInt8]?, dimension: Int) -> Int {
        key.utf8.count + response.count + (usage?.count ?? 0) + 4 * dimension + 64
    }
}
