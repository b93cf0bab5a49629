import Glibc

/// Binary image of a graph, written and read in place (no intermediate copy of the vectors):
/// a header of nine Int64 (magic, version, dimension, m, node count, entry, top level, RNG
/// state, upper-link count), then the vectors, layer-0 links, levels, ids, tombstone flags and
/// upper-layer links of every node in node order. Native byte order: a snapshot is a start-up
/// cache for the machine that wrote it, not an exchange format.
extension HNSWGraph {
    static let snapshotMagic: Int64 = 0x4248_4E53_5731  // "BHNSW1"
    static let snapshotVersion: Int64 = 1

    /// Writes the graph to `file`.
    func write(to file: UnsafeMutablePointer<FILE>) throws(VectorIndexSnapshotError) {
        let upperCount = (0..<nodeCount).reduce(0) { $0 + Int(levels[$1]) * (m + 1) }
        let header: [Int64] = [
            Self.snapshotMagic, Self.snapshotVersion, Int64(dimension), Int64(m), Int64(nodeCount), Int64(entry),
            Int64(maxLevel), Int64(bitPattern: rng), Int64(upperCount),
        ]
        try SnapshotIO.write(header, to: file)
        try SnapshotIO.write(vectors, count: nodeCount * dimension * 4, to: file)
        try SnapshotIO.write(links0, count: nodeCount * (m0 + 1) * 4, to: file)
        try SnapshotIO.write(levels, count: nodeCount, to: file)
        try SnapshotIO.write(nodeIDs, count: nodeCount, to: file)
        try SnapshotIO.write(deleted.prefix(nodeCount).map { $0 ? UInt8(1) : 0 }, to: file)
        for node in 0..<nodeCount where levels[node] > 0 { try SnapshotIO.write(upper[node], to: file) }
    }

    /// Reads a graph written by `write(to:)`, checking every size and link so a damaged or
    /// foreign file is refused instead of trusted.
    static func read(
        from file: UnsafeMutablePointer<FILE>, dimension: Int, configuration: VectorIndexConfiguration
    ) throws(VectorIndexSnapshotError) -> HNSWGraph {
        var header = [Int64](repeating: 0, count: 9)
        try SnapshotIO.read(&header, from: file)
        guard header[0] == snapshotMagic, header[1] == snapshotVersion else { throw .invalid("not an HNSW snapshot (or another version)") }
        guard header[2] == Int64(dimension) else { throw .incompatible("dimension \(header[2]), expected \(dimension)") }
        guard header[3] == Int64(configuration.m) else { throw .incompatible("m \(header[3]), configured \(configuration.m)") }
        let count = Int(header[4])
        guard count >= 0, count < Int(Int32.max), header[5] >= -1, header[5] < header[4] || count == 0, (0...16).contains(header[6]) else {
            throw .invalid("bad header")
        }
        let graph = HNSWGraph(dimension: dimension, configuration: configuration, seed: UInt64(bitPattern: header[7]))
        if count > 0 { graph.grow(to: count) }
        try SnapshotIO.read(graph.vectors, count: count * dimension * 4, from: file)
        try SnapshotIO.read(graph.links0, count: count * (graph.m0 + 1) * 4, from: file)
        var levels = [UInt8](repeating: 0, count: count)
        try SnapshotIO.read(&levels, from: file)
        var ids = [UInt64](repeating: 0, count: count)
        try SnapshotIO.read(&ids, from: file)
        var flags = [UInt8](repeating: 0, count: count)
        try SnapshotIO.read(&flags, from: file)
        var upper = [[Int32]](repeating: [], count: count)
        var upperTotal = 0
        for node in 0..<count where levels[node] > 0 {
            guard levels[node] <= 16 else { throw .invalid("level \(levels[node]) at node \(node)") }
            var list = [Int32](repeating: 0, count: Int(levels[node]) * (graph.m + 1))
            try SnapshotIO.read(&list, from: file)
            upperTotal += list.count
            upper[node] = list
        }
        guard upperTotal == Int(header[8]) else { throw .invalid("upper links \(upperTotal), header says \(header[8])") }
        // Every link must name a node, every count fit its list.
        for node in 0..<count {
            let start = graph.links0 + node * (graph.m0 + 1)
            guard (0...Int32(graph.m0)).contains(start[0]) else { throw .invalid("layer-0 link count at node \(node)") }
            for i in 0..<Int(start[0]) where !(0..<Int32(count)).contains(start[1 + i]) { throw .invalid("link out of range at node \(node)") }
            for l in 0..<Int(levels[node]) {
                let offset = l * (graph.m + 1)
                let n = upper[node][offset]
                guard (0...Int32(graph.m)).contains(n) else { throw .invalid("upper link count at node \(node)") }
                for i in 0..<Int(n) where !(0..<Int32(count)).contains(upper[node][offset + 1 + i]) {
                    throw .invalid("upper link out of range at node \(node)")
                }
            }
        }
        graph.restore(
            nodeCount: count, levels: levels, ids: ids, deleted: flags.map { $0 != 0 }, upper: upper,
            entry: Int32(header[5]), maxLevel: Int(header[6]))
        return graph
    }
}

/// fwrite/fread of whole buffers, failing on short counts. (The closures of `withUnsafeBytes`
/// rethrow untyped errors, so the byte copies report success and the throwing happens here.)
enum SnapshotIO {
    static func write(_ base: UnsafeRawPointer?, count: Int, to file: UnsafeMutablePointer<FILE>) throws(VectorIndexSnapshotError) {
        guard count > 0 else { return }
        guard let base, fwrite(base, 1, count, file) == count else { throw .io("write failed: errno \(errno)") }
    }

    static func read(_ base: UnsafeMutableRawPointer?, count: Int, from file: UnsafeMutablePointer<FILE>) throws(VectorIndexSnapshotError) {
        guard count > 0 else { return }
        guard let base, fread(base, 1, count, file) == count else { throw .invalid("snapshot truncated") }
    }

    static func write<T>(_ array: [T], count: Int? = nil, to file: UnsafeMutablePointer<FILE>) throws(VectorIndexSnapshotError) {
        let bytes = (count ?? array.count) * MemoryLayout<T>.stride
        let ok = array.withUnsafeBytes { buf in bytes == 0 || (buf.baseAddress.map { fwrite($0, 1, bytes, file) == bytes } ?? false) }
        guard ok else { throw .io("write failed: errno \(errno)") }
    }

    static func read<T>(_ array: inout [T], from file: UnsafeMutablePointer<FILE>) throws(VectorIndexSnapshotError) {
        let bytes = array.count * MemoryLayout<T>.stride
        let ok = array.withUnsafeMutableBytes { buf in bytes == 0 || (buf.baseAddress.map { fread($0, 1, bytes, file) == bytes } ?? false) }
        guard ok else { throw .invalid("snapshot truncated") }
    }
}
