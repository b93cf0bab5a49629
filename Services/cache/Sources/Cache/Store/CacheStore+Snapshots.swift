import BulkheadCrypto
import BulkheadObservability
import Foundation

/// Index snapshots: building an HNSW graph takes minutes at a million entries, so at shutdown
/// every namespace whose index is HNSW writes it to `DATA_DIR/index/<sha256(tenant, namespace)>.hnsw`,
/// and at start the loader reads it back and reconciles it with the database (ids gone are
/// removed, ids newer than the snapshot inserted). A missing or damaged snapshot only means a
/// rebuild. After a crash the last clean shutdown's snapshot is still reconciled correctly
/// (entry ids are never reused and an id's vector never changes).
extension CacheStore {
    /// Where `id`'s snapshot lives (a hash keeps any legal name a short, safe file name).
    nonisolated static func snapshotPath(_ id: NamespaceID, in directory: String?) -> String? {
        guard let directory else { return nil }
        let digest = SHA256.hash(Array(id.tenant.utf8) + [0] + Array(id.namespace.utf8))
        return directory + "/" + Hex.encode(digest) + ".hnsw"
    }

    func snapshotPath(_ id: NamespaceID) -> String? { Self.snapshotPath(id, in: snapshotDirectory) }

    /// The index of one namespace at start: its snapshot reconciled with `list` when there is a
    /// usable one, else built from `list`. Pure (no actor state), so several namespaces are
    /// built at once on blocking threads.
    nonisolated static func buildIndex(
        _ id: NamespaceID, dimension: Int, list: [(id: UInt64, vector: [Float])], configuration: VectorIndexConfiguration,
        snapshotDirectory: String?, logger: Logger?
    ) -> (index: VectorIndex, fromSnapshot: Bool) {
        if let path = snapshotPath(id, in: snapshotDirectory), FileManager.default.fileExists(atPath: path) {
            do {
                let index = try VectorIndex.loadSnapshot(from: path, dimension: dimension, configuration: configuration)
                reconcile(index, with: list)
                return (index, true)
            } catch {
                logger?.warning("index snapshot unusable, rebuilding", ["path": .string(path), "error": .string(String(describing: error))])
            }
        }
        return (VectorIndex(dimension: dimension, configuration: configuration, entries: list), false)
    }

    /// Makes a snapshot's index hold exactly `list`: ids gone are removed, new ids inserted.
    nonisolated static func reconcile(_ index: VectorIndex, with list: [(id: UInt64, vector: [Float])]) {
        var wanted = Set<UInt64>(minimumCapacity: list.count)
        for item in list { wanted.insert(item.id) }
        var stale: [UInt64] = []
        var present = Set<UInt64>(minimumCapacity: list.count)
        index.forEachID { id in
            if wanted.contains(id) { present.insert(id) } else { stale.append(id) }
        }
        for id in stale { index.remove(id: id) }
        for item in list where !present.contains(item.id) { index.insert(id: item.id, vector: item.vector) }
    }

    /// Writes a snapshot of every HNSW index and deletes the others' files; returns how many were written.
    @discardableResult
    func writeSnapshots() -> Int {
        guard let dir = snapshotDirectory else { return 0 }
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var keep = Set<String>()
        var written = 0
        for ns in namespaces.values {
            guard let index = ns.index, index.kind == "hnsw", let path = snapshotPath(ns.id) else { continue }
            do {
                try index.writeSnapshot(to: path)
                keep.insert((path as NSString).lastPathComponent)
                written += 1
            } catch {
                logger?.error("index snapshot failed", ["path": .string(path), "error": .string(String(describing: error))])
            }
        }
        for file in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where !keep.contains(file) {
            try? FileManager.default.removeItem(atPath: dir + "/" + file)
        }
        return written
    }
}
