import CBulkheadKernels

/// Exact search over unit vectors kept in one contiguous Float32 array (row `slot` holds the
/// vector of `ids[slot]`). Removal moves the last row into the hole, so rows stay dense and a
/// scan touches only live vectors, front to back (what the hardware prefetcher likes).
struct FlatVectorStore {
    let dimension: Int
    private(set) var storage: [Float] = []
    private(set) var ids: [UInt64] = []
    private var slotOf: [UInt64: Int32] = [:]

    init(dimension: Int) {
        self.dimension = dimension
    }

    var count: Int { ids.count }

    /// Bytes held: the rows, the slot→id array and the id→slot map (its buckets estimated as
    /// key + value + one byte of metadata at the dictionary's capacity).
    var memoryBytes: Int {
        storage.capacity * MemoryLayout<Float>.stride + ids.capacity * MemoryLayout<UInt64>.stride
            + slotOf.capacity * (MemoryLayout<UInt64>.stride + MemoryLayout<Int32>.stride + 1)
    }

    func contains(_ id: UInt64) -> Bool { slotOf[id] != nil }

    /// Adds or replaces the (already normalized) vector of `id`.
    mutating func upsert(id: UInt64, unit vector: [Float]) {
        if let slot = slotOf[id] {
            let base = Int(slot) * dimension
            storage.withUnsafeMutableBufferPointer { buf in
                for i in 0..<dimension { buf[base + i] = vector[i] }
            }
            return
        }
        slotOf[id] = Int32(ids.count)
        ids.append(id)
        storage.append(contentsOf: vector)
    }

    /// Removes `id`; returns false when it was not stored.
    @discardableResult
    mutating func remove(id: UInt64) -> Bool {
        guard let slot = slotOf.removeValue(forKey: id) else { return false }
        let last = ids.count - 1
        if Int(slot) != last {
            let movedID = ids[last]
            ids[Int(slot)] = movedID
            slotOf[movedID] = slot
            let from = last * dimension, to = Int(slot) * dimension, d = dimension
            storage.withUnsafeMutableBufferPointer { buf in
                guard let base = buf.baseAddress else { return }
                (base + to).update(from: base + from, count: d)
            }
        }
        ids.removeLast()
        storage.removeLast(dimension)
        return true
    }

    mutating func removeAll() {
        storage = []
        ids = []
        slotOf = [:]
    }

    /// The stored unit vector of `id`, if any.
    func vector(of id: UInt64) -> [Float]? {
        guard let slot = slotOf[id] else { return nil }
        let base = Int(slot) * dimension
        return Array(storage[base..<(base + dimension)])
    }

    /// Every stored (id, unit vector), in slot order.
    func forEach(_ body: (UInt64, UnsafeBufferPointer<Float>) -> Void) {
        storage.withUnsafeBufferPointer { buf in
            guard let base = buf.baseAddress else { return }
            for slot in 0..<ids.count {
                body(ids[slot], UnsafeBufferPointer(start: base + slot * dimension, count: dimension))
            }
        }
    }

    /// The `k` rows most similar to the unit `query`, best first: one pass over all rows, the dot
    /// products computed by the C kernel a block at a time, then a bounded heap.
    func search(unit query: [Float], k: Int) -> [VectorMatch] {
        let n = ids.count
        guard k > 0, n > 0 else { return [] }
        let d = dimension
        if k == 1 {
            var best: Float = -.infinity
            let slot = query.withUnsafeBufferPointer { q in
                storage.withUnsafeBufferPointer { rows in
                    bh_vec_argmax_rows(q.baseAddress, rows.baseAddress, n, Int32(d), &best)
                }
            }
            guard slot >= 0, slot < n else { return [] }
            return [VectorMatch(id: ids[slot], similarity: best)]
        }
        var top = TopK(k: min(k, n))
        let block = 1024
        var sims = [Float](repeating: 0, count: min(block, n))
        query.withUnsafeBufferPointer { q in
            storage.withUnsafeBufferPointer { rows in
                sims.withUnsafeMutableBufferPointer { out in
                    guard let qp = q.baseAddress, let base = rows.baseAddress, let op = out.baseAddress else { return }
                    var start = 0
                    while start < n {
                        let count = min(block, n - start)
                        bh_vec_dot_rows(qp, base + start * d, count, Int32(d), op)
                        for j in 0..<count where op[j] > top.floor { top.offer(op[j], slot: Int32(start + j)) }
                        start += count
                    }
                }
            }
        }
        return top.sorted().map { VectorMatch(id: ids[Int($0.slot)], similarity: $0.similarity) }
    }
}
