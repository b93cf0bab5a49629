import Glibc

/// Nearest-neighbour index of one cache namespace: cosine similarity over vectors of one
/// dimension, keyed by the caller's `UInt64` ids.
///
/// Below `configuration.hnswThreshold` entries every search is exact (a SIMD scan of contiguous
/// rows). At the threshold the index starts building an HNSW graph and searches approximately
/// once it is complete (recall@1 ≥ 0.99 with the default parameters, `IndexRecallTests`). Up to
/// `synchronousBuildLimit` entries the graph is built within the insert that crosses the
/// threshold; above it the build advances `buildStep` entries per insert or `maintain()` call,
/// so no single call stalls for seconds, and searches stay exact (and correct) meanwhile.
///
/// Not thread-safe: the owner serializes calls (an actor or a lock around it).
///
/// ```swift
/// let index = VectorIndex(dimension: 384)
/// index.insert(id: 7, vector: embedding)
/// let best = index.search(query, k: 1).first   // VectorMatch(id: 7, similarity: 0.93)
/// ```
public final class VectorIndex: @unchecked Sendable {
    /// Length of every vector.
    public let dimension: Int
    /// The tuning this index was created with.
    public let configuration: VectorIndexConfiguration

    /// Exact storage: authoritative until the graph is complete, then emptied (the graph keeps
    /// its own copy of the rows).
    private var flat: FlatVectorStore
    /// The graph, complete when `pending` is empty.
    private var graph: HNSWGraph?
    /// Ids of `flat` still to copy into a graph under construction.
    private var pending: [UInt64] = []
    private var searchWidth: Int

    /// An empty index for vectors of `dimension` floats.
    public init(dimension: Int, configuration: VectorIndexConfiguration = .init()) {
        self.dimension = max(1, dimension)
        self.configuration = configuration
        self.flat = FlatVectorStore(dimension: max(1, dimension))
        self.searchWidth = configuration.efSearch
    }

    /// An index loaded with `entries` at once (start-up): the rows are stored first and, when
    /// there are at least `hnswThreshold`, the whole graph is built before returning. Entries
    /// whose vector `accepts(_:)` rejects are skipped; a repeated id keeps its last vector.
    public convenience init<S: Sequence>(dimension: Int, configuration: VectorIndexConfiguration = .init(), entries: S)
    where S.Element == (id: UInt64, vector: [Float]) {
        self.init(dimension: dimension, configuration: configuration)
        for (id, vector) in entries {
            guard vector.count == self.dimension, let unit = VectorMath.normalized(vector) else { continue }
            flat.upsert(id: id, unit: unit)
        }
        if flat.count >= configuration.hnswThreshold {
            startGraph()
            advanceBuild(budget: .max)
        }
    }

    /// Whether a graph is being built (searches are exact until it is done).
    private var building: Bool { graph != nil && !pending.isEmpty }
    /// The graph when it serves searches.
    private var servingGraph: HNSWGraph? { pending.isEmpty ? graph : nil }

    /// Live entries.
    public var count: Int { servingGraph?.count ?? flat.count }

    /// `"exact"` or `"hnsw"`: how `search` currently works (`"exact"` while a graph is built).
    public var kind: String { servingGraph == nil ? "exact" : "hnsw" }

    /// Entries still to add to a graph under construction (0 when none is being built).
    public var graphBuildBacklog: Int { graph == nil ? 0 : pending.count }

    /// Approximate bytes the index holds (vectors, graph links, id maps).
    public var memoryBytes: Int { (graph?.memoryBytes ?? 0) + (servingGraph == nil ? flat.memoryBytes : 0) }

    /// Whether `id` is stored.
    public func contains(id: UInt64) -> Bool { servingGraph?.contains(id) ?? flat.contains(id) }

    /// Whether `vector` can be stored: the right dimension, finite, not zero.
    public func accepts(_ vector: [Float]) -> Bool {
        vector.count == dimension && VectorMath.normalized(vector) != nil
    }

    /// Stores `vector` (normalized to unit length) under `id`, replacing any vector `id` had.
    /// Returns false, storing nothing, when the vector has the wrong dimension, a NaN/infinite
    /// component or is zero (check with `accepts(_:)` first to report the error).
    @discardableResult
    public func insert(id: UInt64, vector: [Float]) -> Bool {
        guard vector.count == dimension, let unit = VectorMath.normalized(vector) else { return false }
        if let graph, pending.isEmpty {
            Self.withPointer(unit) { graph.insert(id: id, unit: $0) }
            return true
        }
        flat.upsert(id: id, unit: unit)
        if let graph {
            // Building: new vectors go to both; the backlog advances a step.
            Self.withPointer(unit) { graph.insert(id: id, unit: $0) }
            advanceBuild(budget: configuration.buildStep)
        } else if flat.count >= configuration.hnswThreshold {
            startGraph()
            advanceBuild(budget: flat.count <= configuration.synchronousBuildLimit ? .max : configuration.buildStep)
        }
        return true
    }

    /// Advances a graph build by up to `budget` entries (call it from a periodic task so a
    /// namespace that stops receiving inserts still gets its graph). Returns whether work is left.
    @discardableResult
    public func maintain(budget: Int = 256) -> Bool {
        guard building else { return false }
        advanceBuild(budget: max(1, budget))
        return building
    }

    /// Removes `id` (no-op when absent). Under half the threshold the index returns to exact
    /// search; when tombstones outnumber live nodes the graph is rebuilt from the live vectors.
    public func remove(id: UInt64) {
        if let graph = servingGraph {
            guard graph.remove(id: id) else { return }
            if graph.count < configuration.hnswThreshold / 2 {
                dropGraph()
            } else if graph.tombstones > graph.count {
                dropGraph()
                startGraph()
                advanceBuild(budget: flat.count <= configuration.synchronousBuildLimit ? .max : configuration.buildStep)
            }
            return
        }
        guard flat.remove(id: id) else { return }
        graph?.remove(id: id)
        if graph != nil, flat.count < configuration.hnswThreshold / 2 {
            graph = nil
            pending = []
        }
    }

    /// Removes every entry.
    public func removeAll() {
        graph = nil
        pending = []
        flat.removeAll()
    }

    /// The `k` stored vectors most similar to `query` (cosine), best first. Empty when `query`
    /// has the wrong dimension or no direction.
    public func search(_ query: [Float], k: Int) -> [VectorMatch] {
        guard k > 0, query.count == dimension, let unit = VectorMath.normalized(query) else { return [] }
        if let graph = servingGraph {
            return Self.withPointer(unit) { graph.search(unit: $0, k: k) } ?? []
        }
        return flat.search(unit: unit, k: k)
    }

    /// Exact search whatever the current kind (the reference recall is measured against).
    public func exactSearch(_ query: [Float], k: Int) -> [VectorMatch] {
        guard k > 0, query.count == dimension, let unit = VectorMath.normalized(query) else { return [] }
        guard let graph = servingGraph else { return flat.search(unit: unit, k: k) }
        return Self.withPointer(unit) { graph.exactSearch(unit: $0, k: k) } ?? []
    }

    /// The HNSW search beam width in use (`configuration.efSearch` until changed).
    public var efSearch: Int {
        get { searchWidth }
        set {
            searchWidth = max(1, newValue)
            graph?.efSearch = searchWidth
        }
    }

    /// Writes a snapshot body: the graph, or the exact rows after their own magic.
    func writeContents(to file: UnsafeMutablePointer<FILE>) throws(VectorIndexSnapshotError) {
        if let graph = servingGraph {
            try SnapshotIO.write([Int64(1)], to: file)
            try graph.write(to: file)
            return
        }
        try SnapshotIO.write([Self.exactMagic, Int64(flat.count)], to: file)
        try SnapshotIO.write(flat.ids, to: file)
        try SnapshotIO.write(flat.storage, count: flat.count * dimension, to: file)
    }

    /// Serves from a graph read from a snapshot.
    func adopt(_ loaded: HNSWGraph) {
        loaded.efSearch = searchWidth
        flat.removeAll()
        pending = []
        graph = loaded
    }

    /// Every stored (id, unit vector).
    func forEachEntry(_ body: (UInt64, UnsafeBufferPointer<Float>) -> Void) {
        if let graph = servingGraph { graph.forEachLive(body) } else { flat.forEach(body) }
    }

    private static func withPointer<R>(_ unit: [Float], _ body: (UnsafePointer<Float>) -> R) -> R? {
        unit.withUnsafeBufferPointer { buf in buf.baseAddress.map(body) }
    }

    /// An empty graph and every current id as backlog.
    private func startGraph() {
        let built = HNSWGraph(dimension: dimension, configuration: configuration)
        built.efSearch = searchWidth
        graph = built
        var ids: [UInt64] = []
        ids.reserveCapacity(flat.count)
        flat.forEach { id, _ in ids.append(id) }
        pending = ids.reversed()  // popped from the end: insertion order
    }

    /// Copies up to `budget` backlog ids into the graph; when the backlog empties the graph
    /// serves and the exact rows are released.
    private func advanceBuild(budget: Int) {
        guard let graph else { return }
        var done = 0
        while done < budget, let id = pending.popLast() {
            // Removed since, or already inserted with a newer vector: nothing to copy.
            guard !graph.contains(id), let row = flat.vector(of: id) else { continue }
            Self.withPointer(row) { graph.insert(id: id, unit: $0) }
            done += 1
        }
        if pending.isEmpty { flat.removeAll() }
    }

    private func dropGraph() {
        guard let graph else { return }
        var rebuilt = FlatVectorStore(dimension: dimension)
        graph.forEachLive { id, row in rebuilt.upsert(id: id, unit: Array(row)) }
        flat = rebuilt
        pending = []
        self.graph = nil
    }
}
