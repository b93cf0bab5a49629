/// One namespace's entries, key map, LRU order, vector index and counters. Owned and
/// serialized by `CacheStore` (an actor), so it needs no lock of its own.
final class CacheNamespace {
    let id: NamespaceID
    let createdAt: Int64
    /// Fixed by the first vector stored; nil while the namespace holds only exact entries.
    private(set) var dimension: Int?
    private(set) var index: VectorIndex?
    var entries: [UInt64: CacheEntry] = [:]
    var byKey: [String: UInt64] = [:]
    var lru = LRUList()
    var bytes = 0
    var stats = NamespaceCounters()

    init(id: NamespaceID, createdAt: Int64, dimension: Int?, configuration: VectorIndexConfiguration) {
        self.id = id
        self.createdAt = createdAt
        if let dimension { fixDimension(dimension, configuration: configuration) }
    }

    /// Sets the dimension and creates the index (once).
    func fixDimension(_ dimension: Int, configuration: VectorIndexConfiguration) {
        guard self.dimension == nil else { return }
        self.dimension = dimension
        index = VectorIndex(dimension: dimension, configuration: configuration)
    }

    /// Installs an index built in one go at start-up (for a namespace whose dimension is set).
    func install(_ built: VectorIndex) {
        guard built.dimension == dimension else { return }
        index = built
    }

    /// The entry under `key`, if any (expired or not).
    func entry(forKey key: String) -> CacheEntry? {
        byKey[key].flatMap { entries[$0] }
    }
}

/// Per-namespace lookup and eviction counts since start (the stats route reports them per tenant).
struct NamespaceCounters: Sendable {
    var hitsExact = 0
    var hitsSemantic = 0
    var misses = 0
    var savedCostMicroUSD = 0
    var evictions = EvictionCounts()
}

/// Entries removed other than by replacement, by reason.
struct EvictionCounts: Sendable, Encodable {
    var lruEntries = 0
    var lruBytes = 0
    var ttl = 0
    var invalidated = 0

    enum CodingKeys: String, CodingKey {
        case lruEntries = "lru_entries", lruBytes = "lru_bytes", ttl, invalidated
    }

    mutating func add(_ reason: EvictionReason, _ n: Int = 1) {
        switch reason {
        case .lruEntries: lruEntries += n
        case .lruBytes: lruBytes += n
        case .ttl: ttl += n
        case .invalidated: invalidated += n
        }
    }
}

/// Why an entry left the cache (the `reason` label of `cache_evictions_total`).
enum EvictionReason: String, Sendable, CaseIterable {
    case lruEntries = "lru_entries"
    case lruBytes = "lru_bytes"
    case ttl
    case invalidated
}
