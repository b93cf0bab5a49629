import CBulkheadKernels

/// Hierarchical navigable small world graph (Malkov & Yashunin, 2016) over unit vectors, with
/// the paper's heuristic neighbour selection (Algorithm 4) and tombstone deletion.
///
/// Layout, for speed and a measurable footprint: node `i`'s vector is row `i` of one Float32
/// buffer; its layer-0 links are `[count, n₁ … n₂ₘ]` at `i·(2m+1)` in one Int32 buffer; upper
/// layers (a node reaches layer `l` with probability m^−l) live in a small per-node array.
///
/// A removed node becomes a tombstone: searches still walk through it (the graph stays connected)
/// but never return it, and the next insert reuses its slot, relinking it like a fresh node. The
/// stale links other nodes keep to a reused slot stay valid edges (they point at a real vector),
/// only less well chosen, so churn costs a little recall, which `IndexRecallTests` measures.
final class HNSWGraph {
    let dimension: Int
    let m: Int
    let m0: Int
    let efConstruction: Int
    var efSearch: Int

    // Storage (read by HNSWGraph+Snapshot.swift, hence not private).
    private(set) var nodeCount = 0
    private var capacity = 0
    private(set) var vectors: UnsafeMutablePointer<Float>
    private(set) var links0: UnsafeMutablePointer<Int32>
    private var visitTags: UnsafeMutablePointer<UInt32>
    private var visitGeneration: UInt32 = 0
    private(set) var upper: [[Int32]] = []
    private(set) var levels: [UInt8] = []
    private(set) var nodeIDs: [UInt64] = []
    private(set) var deleted: [Bool] = []
    private var freeNodes: [Int32] = []
    private var nodeOf: [UInt64: Int32] = [:]
    private(set) var entry: Int32 = -1
    private(set) var maxLevel = 0
    private(set) var rng: UInt64

    // Scratch reused by every search (the graph is single-threaded by contract).
    private var candidates = SimilarityHeap()
    private var results = SimilarityHeap()
    private var gatherNodes: UnsafeMutablePointer<Int32>
    private var gatherSims: UnsafeMutablePointer<Float>

    init(dimension: Int, configuration: VectorIndexConfiguration, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        self.dimension = dimension
        self.m = configuration.m
        self.m0 = 2 * configuration.m
        self.efConstruction = configuration.efConstruction
        self.efSearch = configuration.efSearch
        self.rng = seed
        vectors = .allocate(capacity: 0)
        links0 = .allocate(capacity: 0)
        visitTags = .allocate(capacity: 0)
        gatherNodes = .allocate(capacity: 2 * configuration.m + 1)
        gatherSims = .allocate(capacity: 2 * configuration.m + 1)
    }

    deinit {
        vectors.deallocate()
        links0.deallocate()
        visitTags.deallocate()
        gatherNodes.deallocate()
        gatherSims.deallocate()
    }

    /// Live (not removed) vectors.
    var count: Int { nodeOf.count }
    /// Tombstones waiting for reuse.
    var tombstones: Int { freeNodes.count }

    /// Bytes held: vectors, links, per-node arrays and the id map (dictionary buckets estimated
    /// as key + value + one metadata byte each).
    var memoryBytes: Int {
        var upperBytes = upper.capacity * MemoryLayout<[Int32]>.stride
        for list in upper where !list.isEmpty { upperBytes += 32 + list.capacity * 4 }
        return capacity * (dimension * 4 + (m0 + 1) * 4 + 4) + upperBytes + levels.capacity + deleted.capacity
            + nodeIDs.capacity * 8 + freeNodes.capacity * 4 + nodeOf.capacity * 13
    }

    func contains(_ id: UInt64) -> Bool { nodeOf[id] != nil }

    /// Every live (id, unit vector).
    func forEachLive(_ body: (UInt64, UnsafeBufferPointer<Float>) -> Void) {
        for node in 0..<nodeCount where !deleted[node] {
            body(nodeIDs[node], UnsafeBufferPointer(start: vectors + node * dimension, count: dimension))
        }
    }

    // MARK: - Insert and remove

    /// Adds the unit vector `unit` under `id` (a previous vector of `id` is removed first).
    func insert(id: UInt64, unit: UnsafePointer<Float>) {
        remove(id: id)
        let node: Int32
        let level: Int
        if let reused = popReusableNode() {
            node = reused
            level = Int(levels[Int(node)])
            links0[Int(node) * (m0 + 1)] = 0
            for l in 0..<level { upper[Int(node)][l * (m + 1)] = 0 }
        } else {
            node = appendNode(level: randomLevel())
            level = Int(levels[Int(node)])
        }
        (vectors + Int(node) * dimension).update(from: unit, count: dimension)
        nodeIDs[Int(node)] = id
        nodeOf[id] = node
        link(node, level: level)
        deleted[Int(node)] = false
    }

    /// Marks `id`'s node as a tombstone; returns false when `id` was not stored.
    @discardableResult
    func remove(id: UInt64) -> Bool {
        guard let node = nodeOf.removeValue(forKey: id) else { return false }
        deleted[Int(node)] = true
        freeNodes.append(node)
        return true
    }

    // MARK: - Search

    /// The `k` live nodes most similar to the unit `query`, best first, as (id, similarity).
    func search(unit query: UnsafePointer<Float>, k: Int) -> [VectorMatch] {
        guard entry >= 0, k > 0 else { return [] }
        var ep = entry
        var epSim = bh_vec_dot(query, vectors + Int(ep) * dimension, Int32(dimension))
        var l = maxLevel
        while l > 0 {
            greedy(query, &ep, &epSim, layer: l)
            l -= 1
        }
        searchLayer(query, entries: [(epSim, ep)], ef: max(efSearch, k), layer: 0, skipDeleted: true, exclude: -1)
        var found: [(Float, Int32)] = []
        found.reserveCapacity(results.count)
        while !results.isEmpty {
            found.append((results.minKey, results.minNode))
            results.popMin()
        }
        return found.reversed().prefix(k).map { VectorMatch(id: nodeIDs[Int($0.1)], similarity: $0.0) }
    }

    /// Exact top-`k` over the live nodes (a scan of the vector buffer; the recall reference).
    func exactSearch(unit query: UnsafePointer<Float>, k: Int) -> [VectorMatch] {
        guard k > 0, nodeCount > 0 else { return [] }
        var top = TopK(k: k)
        let block = 1024
        let sims = UnsafeMutablePointer<Float>.allocate(capacity: block)
        defer { sims.deallocate() }
        var start = 0
        while start < nodeCount {
            let n = min(block, nodeCount - start)
            bh_vec_dot_rows(query, vectors + start * dimension, n, Int32(dimension), sims)
            for j in 0..<n where !deleted[start + j] && sims[j] > top.floor { top.offer(sims[j], slot: Int32(start + j)) }
            start += n
        }
        return top.sorted().map { VectorMatch(id: nodeIDs[Int($0.slot)], similarity: $0.similarity) }
    }

    // MARK: - Construction

    private func randomLevel() -> Int {
        // P(level ≥ l) = m^−l, i.e. the paper's ⌊−ln(U)·1/ln(m)⌋, drawn without logarithms.
        var level = 0
        while level < 16, nextRandom() % UInt64(m) == 0 { level += 1 }
        return level
    }

    private func nextRandom() -> UInt64 {
        // SplitMix64: deterministic graphs for a given insertion order.
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private func popReusableNode() -> Int32? {
        // The entry point is never reused: its reinsertion would start from itself.
        guard let last = freeNodes.last else { return nil }
        if last != entry {
            freeNodes.removeLast()
            return last
        }
        guard freeNodes.count > 1 else { return nil }
        freeNodes.swapAt(freeNodes.count - 1, freeNodes.count - 2)
        return freeNodes.removeLast()
    }

    private func appendNode(level: Int) -> Int32 {
        if nodeCount == capacity { grow(to: max(1024, capacity + capacity / 2)) }
        let node = nodeCount
        nodeCount += 1
        links0[node * (m0 + 1)] = 0
        visitTags[node] = 0
        levels.append(UInt8(level))
        upper.append(level == 0 ? [] : [Int32](repeating: 0, count: level * (m + 1)))
        nodeIDs.append(0)
        deleted.append(true)
        return Int32(node)
    }

    /// Installs the per-node arrays of a snapshot whose vectors and layer-0 links were read into
    /// the buffers (`grow(to:)` first); rebuilds the id map and the free list.
    func restore(nodeCount: Int, levels: [UInt8], ids: [UInt64], deleted: [Bool], upper: [[Int32]], entry: Int32, maxLevel: Int) {
        self.nodeCount = nodeCount
        self.levels = levels
        self.nodeIDs = ids
        self.deleted = deleted
        self.upper = upper
        self.entry = entry
        self.maxLevel = maxLevel
        visitTags.initialize(repeating: 0, count: nodeCount)
        nodeOf = [:]
        nodeOf.reserveCapacity(nodeCount)
        freeNodes = []
        for node in 0..<nodeCount {
            if deleted[node] {
                freeNodes.append(Int32(node))
            } else if let older = nodeOf.updateValue(Int32(node), forKey: ids[node]) {
                // A damaged file could name one id twice: keep the later node, retire the other.
                self.deleted[Int(older)] = true
                freeNodes.append(older)
            }
        }
    }

    func grow(to newCapacity: Int) {
        let newVectors = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * dimension)
        newVectors.moveInitialize(from: vectors, count: nodeCount * dimension)
        vectors.deallocate()
        vectors = newVectors
        let newLinks = UnsafeMutablePointer<Int32>.allocate(capacity: newCapacity * (m0 + 1))
        newLinks.moveInitialize(from: links0, count: nodeCount * (m0 + 1))
        links0.deallocate()
        links0 = newLinks
        let newTags = UnsafeMutablePointer<UInt32>.allocate(capacity: newCapacity)
        newTags.moveInitialize(from: visitTags, count: nodeCount)
        visitTags.deallocate()
        visitTags = newTags
        capacity = newCapacity
    }

    /// Connects a node whose vector is in place: greedy descent to its level, then on each layer
    /// down to 0 an efConstruction-wide search, heuristic selection and reverse links.
    private func link(_ node: Int32, level: Int) {
        let q = UnsafePointer(vectors + Int(node) * dimension)
        guard entry >= 0 else {
            entry = node
            maxLevel = level
            return
        }
        var ep = entry
        var epSim = bh_vec_dot(q, vectors + Int(ep) * dimension, Int32(dimension))
        var l = maxLevel
        while l > level {
            greedy(q, &ep, &epSim, layer: l, exclude: node)
            l -= 1
        }
        var entries = [(epSim, ep)]
        l = min(level, maxLevel)
        while l >= 0 {
            // Tombstones are not linked to: their slots will be reused for other vectors.
            searchLayer(q, entries: entries, ef: efConstruction, layer: l, skipDeleted: true, exclude: node)
            var found: [(Float, Int32)] = []
            found.reserveCapacity(results.count)
            while !results.isEmpty {
                found.append((results.minKey, results.minNode))
                results.popMin()
            }
            found.reverse()
            let chosen = selectNeighbors(found, max: m)
            setLinks(node, layer: l, chosen.map(\.1))
            for (_, neighbour) in chosen { addReverseLink(from: neighbour, to: node, layer: l) }
            if !found.isEmpty { entries = found }
            l -= 1
        }
        if level > maxLevel {
            maxLevel = level
            entry = node
        }
    }

    /// Algorithm 4 without extension: walk candidates best first and keep one only if it is more
    /// similar to the base than to every neighbour already kept (spreads links across directions).
    private func selectNeighbors(_ sorted: [(Float, Int32)], max limit: Int) -> [(Float, Int32)] {
        guard sorted.count > limit else { return sorted }
        var chosen: [(Float, Int32)] = []
        chosen.reserveCapacity(limit)
        for (sim, c) in sorted {
            let cv = vectors + Int(c) * dimension
            var good = true
            for (_, r) in chosen where bh_vec_dot(cv, vectors + Int(r) * dimension, Int32(dimension)) > sim {
                good = false
                break
            }
            if good {
                chosen.append((sim, c))
                if chosen.count == limit { break }
            }
        }
        return chosen
    }

    private func addReverseLink(from node: Int32, to target: Int32, layer: Int) {
        let limit = layer == 0 ? m0 : m
        var current = neighbours(of: node, layer: layer)
        if current.contains(target) { return }
        if current.count < limit {
            current.append(target)
            setLinks(node, layer: layer, current)
            return
        }
        let base = vectors + Int(node) * dimension
        current.append(target)
        let scored = current.map { (bh_vec_dot(base, vectors + Int($0) * dimension, Int32(dimension)), $0) }
            .sorted { $0.0 > $1.0 }
        setLinks(node, layer: layer, selectNeighbors(scored, max: limit).map(\.1))
    }

    private func neighbours(of node: Int32, layer: Int) -> [Int32] {
        if layer == 0 {
            let start = links0 + Int(node) * (m0 + 1)
            return Array(UnsafeBufferPointer(start: start + 1, count: Int(start[0])))
        }
        let list = upper[Int(node)]
        let offset = (layer - 1) * (m + 1)
        return Array(list[(offset + 1)..<(offset + 1 + Int(list[offset]))])
    }

    private func setLinks(_ node: Int32, layer: Int, _ links: [Int32]) {
        if layer == 0 {
            let start = links0 + Int(node) * (m0 + 1)
            let n = min(links.count, m0)
            start[0] = Int32(n)
            for i in 0..<n { start[1 + i] = links[i] }
            return
        }
        let offset = (layer - 1) * (m + 1)
        let n = min(links.count, m)
        upper[Int(node)][offset] = Int32(n)
        for i in 0..<n { upper[Int(node)][offset + 1 + i] = links[i] }
    }

    // MARK: - Layer search

    /// Hill-climbs one layer from `ep` to a local best (never onto `exclude`, the node being linked,
    /// which stale links to a reused slot can reach).
    private func greedy(_ q: UnsafePointer<Float>, _ ep: inout Int32, _ epSim: inout Float, layer: Int, exclude: Int32 = -1) {
        var changed = true
        while changed {
            changed = false
            let list = neighbours(of: ep, layer: layer)
            for n in list where n != exclude {
                let s = bh_vec_dot(q, vectors + Int(n) * dimension, Int32(dimension))
                if s > epSim {
                    epSim = s
                    ep = n
                    changed = true
                }
            }
        }
    }

    private func nextVisitGeneration() {
        visitGeneration &+= 1
        if visitGeneration == 0 {
            visitTags.update(repeating: 0, count: nodeCount)
            visitGeneration = 1
        }
    }

    /// Beam search of one layer; leaves the `ef` best nodes in `results` (a min-heap on
    /// similarity). Tombstones are walked through but kept out of `results` when `skipDeleted`.
    private func searchLayer(
        _ q: UnsafePointer<Float>, entries: [(Float, Int32)], ef: Int, layer: Int, skipDeleted: Bool, exclude: Int32
    ) {
        nextVisitGeneration()
        let gen = visitGeneration
        candidates.removeAll()
        results.removeAll()
        if exclude >= 0 { visitTags[Int(exclude)] = gen }
        for (sim, e) in entries where visitTags[Int(e)] != gen {
            visitTags[Int(e)] = gen
            candidates.push(-sim, e)
            if !(skipDeleted && deleted[Int(e)]) { results.push(sim, e) }
        }
        while results.count > ef { results.popMin() }
        let dim = Int32(dimension)
        while !candidates.isEmpty {
            let sim = -candidates.minKey
            let c = candidates.minNode
            if results.count >= ef, sim < results.minKey { break }
            candidates.popMin()
            var pending = 0
            if layer == 0 {
                let start = links0 + Int(c) * (m0 + 1)
                for i in 0..<Int(start[0]) {
                    let n = start[1 + i]
                    if visitTags[Int(n)] != gen {
                        visitTags[Int(n)] = gen
                        gatherNodes[pending] = n
                        pending += 1
                    }
                }
            } else {
                let offset = (layer - 1) * (m + 1)
                upper[Int(c)].withUnsafeBufferPointer { list in
                    for i in 0..<Int(list[offset]) {
                        let n = list[offset + 1 + i]
                        if visitTags[Int(n)] != gen {
                            visitTags[Int(n)] = gen
                            gatherNodes[pending] = n
                            pending += 1
                        }
                    }
                }
            }
            guard pending > 0 else { continue }
            bh_vec_dot_gather(q, vectors, gatherNodes, Int32(pending), dim, gatherSims)
            for j in 0..<pending {
                let s = gatherSims[j]
                if results.count < ef || s > results.minKey {
                    let n = gatherNodes[j]
                    candidates.push(-s, n)
                    if !(skipDeleted && deleted[Int(n)]) {
                        results.push(s, n)
                        if results.count > ef { results.popMin() }
                    }
                }
            }
        }
    }
}
