import BulkheadObservability

/// Every namespace's entries, in memory, behind one actor: lookups never touch SQLite, and
/// every change is queued to the `CacheWriter` in the order it happened.
///
/// Limits are enforced on every store: the namespace's own entry and byte limits first (its
/// least recently used entries go), then the global ones (the globally least recently used
/// entries go, whatever their namespace). Expired entries are dropped when a lookup meets
/// them and by `sweep()`.
///
/// The actor runs on its own `StoreExecutor`, never on an HTTP event loop (see there why).
actor CacheStore {
    /// The store's serial executor: a dedicated queue, so a busy store never holds an event loop.
    nonisolated let executor = StoreExecutor(label: "cache-store")
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    let settings: CacheSettings
    let indexConfiguration: VectorIndexConfiguration
    let metrics: CacheMetrics
    let writer: CacheWriter?
    let now: @Sendable () -> Int64
    /// Where HNSW index snapshots are kept (nil: none).
    let snapshotDirectory: String?
    let logger: Logger?

    var namespaces: [NamespaceID: CacheNamespace] = [:]
    /// Namespace names per tenant, for tenant-wide invalidation.
    var tenants: [String: Set<String>] = [:]
    /// Which namespace each entry id belongs to (for global LRU eviction).
    var owner: [UInt64: NamespaceID] = [:]
    var globalLRU = LRUList()
    var totalEntries = 0
    var totalBytes = 0
    var indexVectors: [String: Int] = ["exact": 0, "hnsw": 0]
    var totals = NamespaceCounters()
    var nextID: UInt64 = 1
    /// What the start-up load found (reported by the stats route).
    var startup: LoadReport?
    /// Namespaces whose index has an HNSW graph under construction (finished by `maintainIndexes`).
    var graphBuilds: Set<NamespaceID> = []

    init(
        settings: CacheSettings, metrics: CacheMetrics, writer: CacheWriter?, snapshotDirectory: String? = nil, logger: Logger? = nil,
        now: @escaping @Sendable () -> Int64 = CacheClock.nowMs
    ) {
        self.snapshotDirectory = snapshotDirectory
        self.logger = logger
        self.settings = settings
        self.indexConfiguration = VectorIndexConfiguration(
            hnswThreshold: settings.hnswThreshold, synchronousBuildLimit: settings.hnswSynchronousBuildLimit,
            buildStep: settings.hnswBuildStepPerInsert)
        self.metrics = metrics
        self.writer = writer
        self.now = now
    }

    // MARK: Store

    /// Stores (or replaces) an entry, creating the namespace on its first store.
    func put(_ p: PutInput) throws(CacheError) -> PutResult {
        let t = now()
        let ns = namespaces[p.namespace]
        if let v = p.vector {
            try VectorCheck.validate(v, maxDimension: settings.maxDimension)
            if let d = ns?.dimension, d != v.count {
                throw CacheError(
                    .unprocessableContent, "dimension_mismatch",
                    "This namespace holds vectors of \(d) dimensions; got \(v.count).")
            }
            // Checked before anything changes, so a refused vector leaves no trace.
            guard (ns?.index ?? VectorIndex(dimension: v.count)).accepts(v) else {
                throw CacheError.invalidVector("The vector cannot be normalized (its length overflows Float32).")
            }
        }
        let bytes = CacheEntry.size(key: p.key, response: p.response, usage: p.usage, dimension: p.vector?.count ?? 0)
        guard bytes <= settings.maxEntryBytes else {
            throw CacheError(
                .payloadTooLarge, "entry_too_large",
                "The entry takes \(bytes) bytes (key, response, usage and vector); the limit is \(settings.maxEntryBytes).")
        }
        let ttl = min(max(1, p.ttlSeconds ?? settings.defaultTTLSeconds), settings.maxTTLSeconds)

        let namespace = ns ?? createNamespace(p.namespace, at: t)
        if let v = p.vector, namespace.dimension == nil {
            namespace.fixDimension(v.count, configuration: indexConfiguration)
            writer?.enqueue(.putNamespace(p.namespace, dimension: v.count, createdAt: namespace.createdAt))
        }
        var created = true
        if let old = namespace.byKey[p.key] {
            removeEntry(old, from: namespace, reason: nil, persist: false)
            created = false
        }
        let id = nextID
        nextID += 1
        let entry = CacheEntry(
            id: id, key: p.key, response: p.response, usage: p.usage, costMicroUSD: p.costMicroUSD,
            createdAt: t, expiresAt: t + Int64(ttl) * 1000, bytes: bytes, hasVector: p.vector != nil)
        if let v = p.vector {
            let inserted = withIndexAccounting(namespace) { $0.index?.insert(id: id, vector: v) ?? false }
            // Cannot fail: `accepts` was checked above; kept so a broken invariant is an error, not a crash.
            guard inserted else { throw CacheError(.internalServerError, "internal", "The index refused a vector it had accepted.") }
        }
        namespace.entries[id] = entry
        namespace.byKey[p.key] = id
        namespace.lru.pushNewest(id)
        namespace.bytes += bytes
        owner[id] = p.namespace
        globalLRU.pushNewest(id)
        totalEntries += 1
        totalBytes += bytes
        writer?.enqueue(.putEntry(StoredEntry(namespace: p.namespace, entry: entry, vector: p.vector, lastUsedAt: t)))
        enforceLimits(protecting: id, in: namespace)
        publishGauges()
        return PutResult(created: created, bytes: bytes, expiresAt: entry.expiresAt)
    }

    func createNamespace(_ id: NamespaceID, at t: Int64) -> CacheNamespace {
        let ns = CacheNamespace(id: id, createdAt: t, dimension: nil, configuration: indexConfiguration)
        namespaces[id] = ns
        tenants[id.tenant, default: []].insert(id.namespace)
        writer?.enqueue(.putNamespace(id, dimension: nil, createdAt: t))
        return ns
    }

    // MARK: Lookup

    /// Exact key first, then the nearest neighbour with cosine ≥ `threshold`. A hit refreshes
    /// the entry's LRU recency.
    func lookup(_ q: LookupInput) throws(CacheError) -> LookupOutcome {
        guard let ns = namespaces[q.namespace] else {
            // Counted even for the text probe: a 404 ends the request, and callers treat it as a miss.
            countLookup(nil, in: nil)
            throw CacheError.namespaceNotFound(q.namespace.tenant, q.namespace.namespace)
        }
        let t = now()
        if let key = q.key, let entry = ns.entry(forKey: key) {
            if entry.expiresAt > t {
                return hit(.exact, similarity: 1, entry: entry, in: ns, at: t)
            }
            expire(entry.id, from: ns)
        }
        var best: Double?
        if !q.exactOnly, let v = q.vector {
            try VectorCheck.validate(v, maxDimension: settings.maxDimension)
            if let d = ns.dimension, d != v.count {
                throw CacheError(
                    .unprocessableContent, "dimension_mismatch",
                    "This namespace holds vectors of \(d) dimensions; the query has \(v.count).")
            }
            if let index = ns.index, index.count > 0 {
                // A few candidates, so expired entries not yet swept do not hide a live one.
                var expired: [UInt64] = []
                var found: (VectorMatch, CacheEntry)?
                for m in index.search(v, k: 4) {
                    guard let e = ns.entries[m.id] else { continue }
                    if e.expiresAt <= t {
                        expired.append(m.id)
                        continue
                    }
                    found = (m, e)
                    break
                }
                for id in expired { expire(id, from: ns) }
                if let (m, e) = found {
                    let similarity = Double(m.similarity)
                    if similarity >= q.threshold {
                        return hit(.semantic, similarity: similarity, entry: e, in: ns, at: t)
                    }
                    best = similarity
                }
            }
        }
        if q.countMiss { countLookup(nil, in: ns) }
        if !expiredSinceLastPublish.isEmpty { publishGauges() }
        return .miss(bestSimilarity: best)
    }

    private func hit(_ kind: HitKind, similarity: Double, entry: CacheEntry, in ns: CacheNamespace, at t: Int64) -> LookupOutcome {
        ns.lru.pushNewest(entry.id)
        globalLRU.pushNewest(entry.id)
        writer?.touch(entry.id, at: t)
        countLookup(kind, in: ns, saved: entry.costMicroUSD)
        if !expiredSinceLastPublish.isEmpty { publishGauges() }
        return .hit(kind: kind, similarity: min(1, similarity), entry: entry)
    }

    private func countLookup(_ kind: HitKind?, in ns: CacheNamespace?, saved: Int = 0) {
        switch kind {
        case .exact:
            ns?.stats.hitsExact += 1
            totals.hitsExact += 1
            metrics.lookups.labels("hit_exact").inc()
        case .semantic:
            ns?.stats.hitsSemantic += 1
            totals.hitsSemantic += 1
            metrics.lookups.labels("hit_semantic").inc()
        case nil:
            ns?.stats.misses += 1
            totals.misses += 1
            metrics.lookups.labels("miss").inc()
        }
        if saved > 0 {
            ns?.stats.savedCostMicroUSD += saved
            totals.savedCostMicroUSD += saved
            metrics.savedCost.inc(by: saved)
        }
    }

    // MARK: Read and invalidate

    /// The live entry under `key`.
    func entry(_ id: NamespaceID, key: String) throws(CacheError) -> CacheEntry {
        guard let ns = namespaces[id] else { throw CacheError.namespaceNotFound(id.tenant, id.namespace) }
        guard let e = ns.entry(forKey: key) else { throw CacheError.entryNotFound(key) }
        guard e.expiresAt > now() else {
            expire(e.id, from: ns)
            publishGauges()
            throw CacheError.entryNotFound(key)
        }
        return e
    }

    /// Deletes one entry (an invalidation); false when there was none.
    func delete(_ id: NamespaceID, key: String) throws(CacheError) -> Bool {
        guard let ns = namespaces[id] else { throw CacheError.namespaceNotFound(id.tenant, id.namespace) }
        guard let entryID = ns.byKey[key] else { return false }
        let live = (ns.entries[entryID]?.expiresAt ?? 0) > now()
        removeEntry(entryID, from: ns, reason: live ? .invalidated : .ttl, persist: true)
        publishGauges()
        return live
    }

    /// Deletes a namespace and its entries; nil when it does not exist.
    func deleteNamespace(_ id: NamespaceID) -> Int? {
        guard let ns = namespaces[id] else { return nil }
        let n = dropNamespace(ns)
        writer?.enqueue(.deleteNamespace(id))
        publishGauges()
        return n
    }

    /// Deletes every namespace of `tenant`; returns the entries removed.
    func deleteTenant(_ tenant: String) -> Int {
        var n = 0
        for name in tenants[tenant] ?? [] {
            if let ns = namespaces[NamespaceID(tenant: tenant, namespace: name)] { n += dropNamespace(ns) }
        }
        writer?.enqueue(.deleteTenant(tenant))
        publishGauges()
        return n
    }

    private func dropNamespace(_ ns: CacheNamespace) -> Int {
        let n = ns.entries.count
        for id in ns.entries.keys {
            owner[id] = nil
            globalLRU.remove(id)
        }
        totalEntries -= n
        totalBytes -= ns.bytes
        if let index = ns.index { indexVectors[index.kind, default: 0] -= index.count }
        countEviction(.invalidated, n, in: ns)
        namespaces[ns.id] = nil
        tenants[ns.id.tenant]?.remove(ns.id.namespace)
        if tenants[ns.id.tenant]?.isEmpty == true { tenants[ns.id.tenant] = nil }
        return n
    }

    // MARK: Stats

    /// One namespace's numbers.
    func namespaceStats(_ id: NamespaceID) throws(CacheError) -> NamespaceStats {
        guard let ns = namespaces[id] else { throw CacheError.namespaceNotFound(id.tenant, id.namespace) }
        return NamespaceStats(ns)
    }

    /// The totals of every namespace.
    func totalStats() -> TotalStats {
        TotalStats(
            counters: totals, entries: totalEntries, bytes: totalBytes, namespaces: namespaces.count, tenants: tenants.count,
            indexVectors: indexVectors,
            indexMemoryBytes: namespaces.values.reduce(0) { $0 + ($1.index?.memoryBytes ?? 0) },
            startup: startup.map {
                TotalStats.Startup(loadedEntries: $0.entries, milliseconds: $0.milliseconds, indexSnapshotsLoaded: $0.snapshotsLoaded)
            })
    }

    // MARK: Expiry sweep

    /// Drops every expired entry; returns how many.
    @discardableResult
    func sweep() -> Int {
        let t = now()
        var n = 0
        for ns in namespaces.values {
            let expired = ns.entries.values.filter { $0.expiresAt <= t }.map(\.id)
            for id in expired { expire(id, from: ns) }
            n += expired.count
        }
        if n > 0 { publishGauges() }
        return n
    }

    /// Entries expired since the gauges were last published (so a lookup that expires some publishes).
    var expiredSinceLastPublish: [UInt64] = []

    func expire(_ id: UInt64, from ns: CacheNamespace) {
        removeEntry(id, from: ns, reason: .ttl, persist: true)
        expiredSinceLastPublish.append(id)
    }
}
