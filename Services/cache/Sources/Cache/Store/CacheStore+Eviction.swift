extension CacheStore {
    /// Removes one entry everywhere (maps, LRU lists, index, totals); `reason` nil for a
    /// replacement (not counted), `persist` false when a new row replaces it anyway.
    func removeEntry(_ id: UInt64, from ns: CacheNamespace, reason: EvictionReason?, persist: Bool) {
        guard let e = ns.entries.removeValue(forKey: id) else { return }
        if ns.byKey[e.key] == id { ns.byKey[e.key] = nil }
        ns.lru.remove(id)
        ns.bytes -= e.bytes
        if e.hasVector { withIndexAccounting(ns) { $0.index?.remove(id: id) } }
        owner[id] = nil
        globalLRU.remove(id)
        totalEntries -= 1
        totalBytes -= e.bytes
        if let reason { countEviction(reason, 1, in: ns) }
        if persist { writer?.enqueue(.deleteEntry(id)) }
    }

    func countEviction(_ reason: EvictionReason, _ n: Int, in ns: CacheNamespace) {
        guard n > 0 else { return }
        ns.stats.evictions.add(reason, n)
        totals.evictions.add(reason, n)
        metrics.evictions.labels(reason.rawValue).inc(by: n)
    }

    /// Evicts least recently used entries until every limit holds: the namespace's entry and
    /// byte limits, then the global ones. `protecting` (the entry just stored) goes last.
    func enforceLimits(protecting newest: UInt64, in ns: CacheNamespace) {
        while ns.entries.count > settings.maxEntriesPerNamespace, let victim = ns.lru.oldestID, victim != newest {
            removeEntry(victim, from: ns, reason: .lruEntries, persist: true)
        }
        while ns.bytes > settings.maxBytesPerNamespace, let victim = ns.lru.oldestID, victim != newest {
            removeEntry(victim, from: ns, reason: .lruBytes, persist: true)
        }
        enforceGlobalLimits(protecting: newest)
    }

    func enforceGlobalLimits(protecting newest: UInt64) {
        while totalEntries > settings.maxEntries, let victim = globalLRU.oldestID, victim != newest {
            guard let nsID = owner[victim], let owning = namespaces[nsID] else {
                globalLRU.remove(victim)
                continue
            }
            removeEntry(victim, from: owning, reason: .lruEntries, persist: true)
        }
        while totalBytes > settings.maxBytes, let victim = globalLRU.oldestID, victim != newest {
            guard let nsID = owner[victim], let owning = namespaces[nsID] else {
                globalLRU.remove(victim)
                continue
            }
            removeEntry(victim, from: owning, reason: .lruBytes, persist: true)
        }
    }

    /// Runs `body` on the namespace's index and keeps the per-kind vector totals right (an
    /// index may switch between exact and HNSW inside `insert`/`remove`).
    @discardableResult
    func withIndexAccounting<T>(_ ns: CacheNamespace, _ body: (CacheNamespace) -> T) -> T {
        let before = ns.index.map { ($0.kind, $0.count) }
        let result = body(ns)
        if let (kind, count) = before { indexVectors[kind, default: 0] -= count }
        if let index = ns.index {
            indexVectors[index.kind, default: 0] += index.count
            // A graph build started (or restarted by a removal): the maintenance loop finishes it.
            if index.graphBuildBacklog > 0 { graphBuilds.insert(ns.id) }
        }
        return result
    }

    /// Copies the totals into the metrics' gauge snapshot.
    func publishGauges() {
        expiredSinceLastPublish.removeAll(keepingCapacity: true)
        let entries = totalEntries, bytes = totalBytes, vectors = indexVectors
        metrics.snapshot.withLock {
            $0.entries = entries
            $0.bytes = bytes
            $0.indexVectors = vectors
        }
    }
}
