/// `GET /internal/v1/cache/{tenant}/{namespace}`.
struct NamespaceStats: Sendable, Encodable {
    var tenant: String
    var namespace: String
    var entries: Int
    var bytes: Int
    var dimension: Int?
    var index: String
    var indexVectors: Int
    var indexMemoryBytes: Int
    /// Entries still to add to an HNSW graph under construction (0 when none is being built).
    var indexBuildBacklog: Int
    var createdAt: Int64
    var hitsExact: Int
    var hitsSemantic: Int
    var misses: Int
    var hitRatio: Double
    var savedCostMicroUSD: Int
    var evictions: EvictionCounts

    enum CodingKeys: String, CodingKey {
        case tenant, namespace, entries, bytes, dimension, index, misses, evictions
        case indexVectors = "index_vectors", indexMemoryBytes = "index_memory_bytes", indexBuildBacklog = "index_build_backlog", createdAt = "created_at"
        case hitsExact = "hits_exact", hitsSemantic = "hits_semantic", hitRatio = "hit_ratio", savedCostMicroUSD = "saved_cost_micro_usd"
    }

    init(_ ns: CacheNamespace) {
        tenant = ns.id.tenant
        namespace = ns.id.namespace
        entries = ns.entries.count
        bytes = ns.bytes
        dimension = ns.dimension
        index = ns.index?.kind ?? "exact"
        indexVectors = ns.index?.count ?? 0
        indexMemoryBytes = ns.index?.memoryBytes ?? 0
        indexBuildBacklog = ns.index?.graphBuildBacklog ?? 0
        createdAt = ns.createdAt
        hitsExact = ns.stats.hitsExact
        hitsSemantic = ns.stats.hitsSemantic
        misses = ns.stats.misses
        hitRatio = Self.ratio(ns.stats)
        savedCostMicroUSD = ns.stats.savedCostMicroUSD
        evictions = ns.stats.evictions
    }

    static func ratio(_ c: NamespaceCounters) -> Double {
        let hits = c.hitsExact + c.hitsSemantic
        let all = hits + c.misses
        return all == 0 ? 0 : Double(hits) / Double(all)
    }

    // Encode `dimension` as null rather than omitting it.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tenant, forKey: .tenant)
        try c.encode(namespace, forKey: .namespace)
        try c.encode(entries, forKey: .entries)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(dimension, forKey: .dimension)
        try c.encode(index, forKey: .index)
        try c.encode(indexVectors, forKey: .indexVectors)
        try c.encode(indexMemoryBytes, forKey: .indexMemoryBytes)
        try c.encode(indexBuildBacklog, forKey: .indexBuildBacklog)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(hitsExact, forKey: .hitsExact)
        try c.encode(hitsSemantic, forKey: .hitsSemantic)
        try c.encode(misses, forKey: .misses)
        try c.encode(hitRatio, forKey: .hitRatio)
        try c.encode(savedCostMicroUSD, forKey: .savedCostMicroUSD)
        try c.encode(evictions, forKey: .evictions)
    }
}

/// `GET /internal/v1/cache/stats`: every namespace together, since the process started
/// (entries, bytes and index sizes are current; the rest counts since start).
struct TotalStats: Sendable, Encodable {
    var lookups: Int
    var hitsExact: Int
    var hitsSemantic: Int
    var misses: Int
    var hitRatio: Double
    var savedCostMicroUSD: Int
    var evictions: EvictionCounts
    var expirations: Int
    var entries: Int
    var bytes: Int
    var namespaces: Int
    var tenants: Int
    var indexVectors: [String: Int]
    var indexMemoryBytes: Int
    var startup: Startup?

    /// The start-up load: entries loaded, its duration, index snapshots used.
    struct Startup: Sendable, Encodable {
        var loadedEntries: Int
        var milliseconds: Double
        var indexSnapshotsLoaded: Int

        enum CodingKeys: String, CodingKey {
            case milliseconds
            case loadedEntries = "loaded_entries", indexSnapshotsLoaded = "index_snapshots_loaded"
        }
    }

    enum CodingKeys: String, CodingKey {
        case lookups, misses, evictions, expirations, entries, bytes, namespaces, tenants, startup
        case hitsExact = "hits_exact", hitsSemantic = "hits_semantic", hitRatio = "hit_ratio", savedCostMicroUSD = "saved_cost_micro_usd"
        case indexVectors = "index_vectors", indexMemoryBytes = "index_memory_bytes"
    }

    init(
        counters c: NamespaceCounters, entries: Int, bytes: Int, namespaces: Int, tenants: Int, indexVectors: [String: Int], indexMemoryBytes: Int,
        startup: Startup?
    ) {
        self.startup = startup
        lookups = c.hitsExact + c.hitsSemantic + c.misses
        hitsExact = c.hitsExact
        hitsSemantic = c.hitsSemantic
        misses = c.misses
        hitRatio = NamespaceStats.ratio(c)
        savedCostMicroUSD = c.savedCostMicroUSD
        evictions = c.evictions
        expirations = c.evictions.ttl
        self.entries = entries
        self.bytes = bytes
        self.namespaces = namespaces
        self.tenants = tenants
        self.indexVectors = indexVectors
        self.indexMemoryBytes = indexMemoryBytes
    }
}
