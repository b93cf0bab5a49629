import Glibc

/// Fast restarts: an HNSW graph takes minutes to build at a million entries, so the owner can
/// write the index to a file at shutdown (or periodically) and load it at start, then reconcile
/// with its records: `forEachID` lists what the snapshot holds, `remove` drops ids that are gone,
/// `insert` adds the ones written after the snapshot.
///
/// ```swift
/// try index.writeSnapshot(to: dataDir + "/ns-42.hnsw")
/// let restored = try VectorIndex.loadSnapshot(from: dataDir + "/ns-42.hnsw", dimension: 384)
/// ```
extension VectorIndex {
    static let exactMagic: Int64 = 0x4248_4558_4131  // "BHEXA1"

    /// Writes the index to `path` (through a temporary file renamed into place, so a crash never
    /// leaves a half-written snapshot under the real name).
    public func writeSnapshot(to path: String) throws(VectorIndexSnapshotError) {
        let temporary = path + ".tmp"
        guard let file = fopen(temporary, "wb") else { throw .io("cannot create \(temporary): errno \(errno)") }
        do {
            try writeContents(to: file)
        } catch {
            fclose(file)
            unlink(temporary)
            throw error
        }
        guard fflush(file) == 0, fsync(fileno(file)) == 0 else {
            fclose(file)
            unlink(temporary)
            throw .io("cannot flush \(temporary): errno \(errno)")
        }
        fclose(file)
        guard rename(temporary, path) == 0 else { throw .io("cannot rename to \(path): errno \(errno)") }
    }

    /// The index written by `writeSnapshot(to:)`, with `configuration`'s search settings (its `m`
    /// must match the snapshot's).
    public static func loadSnapshot(
        from path: String, dimension: Int, configuration: VectorIndexConfiguration = .init()
    ) throws(VectorIndexSnapshotError) -> VectorIndex {
        guard let file = fopen(path, "rb") else { throw .io("cannot open \(path): errno \(errno)") }
        defer { fclose(file) }
        var head: [Int64] = [0]
        try SnapshotIO.read(&head, from: file)
        let kind = head[0]
        let index = VectorIndex(dimension: dimension, configuration: configuration)
        if kind == exactMagic {
            try SnapshotIO.read(&head, from: file)
            let count = head[0]
            guard count >= 0, count < Int64(Int32.max) else { throw .invalid("bad entry count") }
            var ids = [UInt64](repeating: 0, count: Int(count))
            try SnapshotIO.read(&ids, from: file)
            var row = [Float](repeating: 0, count: dimension)
            for id in ids {
                try SnapshotIO.read(&row, from: file)
                guard index.insert(id: id, vector: row) else { throw .invalid("a stored vector is not finite") }
            }
            return index
        }
        guard kind == 1 else { throw .invalid("unknown snapshot kind") }
        index.adopt(try HNSWGraph.read(from: file, dimension: dimension, configuration: configuration))
        return index
    }

    /// Every stored id (in storage order).
    public func forEachID(_ body: (UInt64) -> Void) {
        forEachEntry { id, _ in body(id) }
    }
}
