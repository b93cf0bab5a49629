import BulkheadService
import Foundation

extension CacheStore {
    /// What `load` found.
    struct LoadReport: Sendable {
        var entries: Int
        var namespaces: Int
        var expiredDropped: Int
        var snapshotsLoaded: Int
        var milliseconds: Double
    }

    /// Rebuilds memory from the database: drops expired rows, loads namespaces and live entries,
    /// re-inserts every vector into its namespace's index, restores LRU order from each
    /// entry's last use, then applies the current limits (they may be lower than before).
    func load(from database: CacheDatabase) async throws -> LoadReport {
        let started = ContinuousClock.now
        let t = now()
        let dropped = try database.deleteExpired(now: t)
        for (id, dimension, createdAt) in try database.loadNamespaces() {
            let ns = CacheNamespace(id: id, createdAt: createdAt, dimension: dimension, configuration: indexConfiguration)
            namespaces[id] = ns
            tenants[id.tenant, default: []].insert(id.namespace)
        }
        var order: [(lastUsed: Int64, id: UInt64, ns: CacheNamespace)] = []
        // Vectors per namespace, indexed in one go at the end (the index builds its HNSW graph
        // once instead of growing it insert by insert).
        var vectors: [NamespaceID: [(id: UInt64, vector: [Float])]] = [:]
        var snapshotsLoaded = 0
        var maxID: UInt64 = 0
        func add(_ stored: StoredEntry) {
            let e = stored.entry
            maxID = max(maxID, e.id)
            let ns = namespaces[stored.namespace] ?? createNamespace(stored.namespace, at: e.createdAt)
            if let v = stored.vector {
                if ns.dimension == nil {
                    ns.fixDimension(v.count, configuration: indexConfiguration)
                    writer?.enqueue(.putNamespace(ns.id, dimension: v.count, createdAt: ns.createdAt))
                }
                // A row whose vector does not fit its namespace (should not happen) is dropped.
                guard v.count == ns.dimension else {
                    writer?.enqueue(.deleteEntry(e.id))
                    return
                }
                vectors[ns.id, default: []].append((e.id, v))
            }
            if let old = ns.byKey[e.key] { removeEntry(old, from: ns, reason: nil, persist: true) }
            ns.entries[e.id] = e
            ns.byKey[e.key] = e.id
            ns.bytes += e.bytes
            owner[e.id] = stored.namespace
            totalEntries += 1
            totalBytes += e.bytes
            order.append((stored.lastUsedAt, e.id, ns))
        }
        var after: Int64 = 0
        while true {
            let page = try database.entries(after: after, liveAt: t)
            for stored in page { add(stored) }
            guard let last = page.last, page.count >= 5000 else { break }
            after = Int64(bitPattern: last.entry.id)
        }
        // Index builds run off the actor, a few namespaces at once (one per core): an HNSW
        // build is the slow part of a start. Nothing else uses the store while it loads.
        var jobs: [(id: NamespaceID, dimension: Int, list: [(id: UInt64, vector: [Float])])] = []
        for (nsID, list) in vectors {
            if let d = namespaces[nsID]?.dimension { jobs.append((nsID, d, list)) }
        }
        vectors = [:]
        // Largest first, so the longest build starts at once.
        jobs.sort { $0.list.count > $1.list.count }
        let configuration = indexConfiguration, directory = snapshotDirectory, log = logger
        let width = max(1, min(ProcessInfo.processInfo.activeProcessorCount, 8))
        try await withThrowingTaskGroup(of: (NamespaceID, VectorIndex, Bool, [UInt64]).self) { group in
            var next = 0
            func startNext() {
                guard next < jobs.count else { return }
                let job = jobs[next]
                next += 1
                group.addTask {
                    try await BlockingWork.run {
                        let (index, fromSnapshot) = Self.buildIndex(
                            job.id, dimension: job.dimension, list: job.list, configuration: configuration, snapshotDirectory: directory, logger: log)
                        // Entries whose vector the index refused (not finite after a bad write) are dropped.
                        let refused = job.list.compactMap { index.contains(id: $0.id) ? nil : $0.id }
                        return (job.id, index, fromSnapshot, refused)
                    }
                }
            }
            for _ in 0..<width { startNext() }
            while let (nsID, index, fromSnapshot, refused) = try await group.next() {
                startNext()
                guard let ns = namespaces[nsID] else { continue }
                ns.install(index)
                if fromSnapshot { snapshotsLoaded += 1 }
                for id in refused where ns.entries[id] != nil { removeEntry(id, from: ns, reason: nil, persist: true) }
            }
        }
        order.sort { ($0.lastUsed, $0.id) < ($1.lastUsed, $1.id) }
        for item in order where item.ns.entries[item.id] != nil {
            item.ns.lru.pushNewest(item.id)
            globalLRU.pushNewest(item.id)
        }
        nextID = max(nextID, maxID + 1, try database.maxEntryID() + 1)
        indexVectors = ["exact": 0, "hnsw": 0]
        for ns in namespaces.values {
            if let index = ns.index { indexVectors[index.kind, default: 0] += index.count }
            while ns.entries.count > settings.maxEntriesPerNamespace, let victim = ns.lru.oldestID {
                removeEntry(victim, from: ns, reason: .lruEntries, persist: true)
            }
            while ns.bytes > settings.maxBytesPerNamespace, let victim = ns.lru.oldestID {
                removeEntry(victim, from: ns, reason: .lruBytes, persist: true)
            }
        }
        enforceGlobalLimits(protecting: 0)
        publishGauges()
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let report = LoadReport(
            entries: totalEntries, namespaces: namespaces.count, expiredDropped: dropped, snapshotsLoaded: snapshotsLoaded, milliseconds: ms)
        startup = report
        return report
    }
}
