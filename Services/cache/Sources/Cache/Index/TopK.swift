/// The `k` best (highest similarity) slots seen so far, kept in a min-heap so the worst kept
/// result is at the root: each candidate costs one comparison unless it beats it, O(n log k)
/// overall instead of sorting all n similarities.
struct TopK {
    private(set) var similarities: [Float] = []
    private(set) var slots: [Int32] = []
    let k: Int

    init(k: Int) {
        self.k = k
        similarities.reserveCapacity(k)
        slots.reserveCapacity(k)
    }

    /// The similarity a candidate must beat to enter (−∞ until `k` are kept).
    @inline(__always) var floor: Float { similarities.count < k ? -.infinity : similarities[0] }

    @inline(__always)
    mutating func offer(_ similarity: Float, slot: Int32) {
        if similarities.count < k {
            similarities.append(similarity)
            slots.append(slot)
            siftUp(similarities.count - 1)
        } else if similarity > similarities[0] {
            similarities[0] = similarity
            slots[0] = slot
            siftDown(0)
        }
    }

    /// The kept results, best first.
    func sorted() -> [(slot: Int32, similarity: Float)] {
        zip(slots, similarities).map { (slot: $0.0, similarity: $0.1) }.sorted { $0.similarity > $1.similarity }
    }

    private mutating func siftUp(_ start: Int) {
        var i = start
        while i > 0 {
            let parent = (i - 1) / 2
            guard similarities[i] < similarities[parent] else { return }
            similarities.swapAt(i, parent)
            slots.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = similarities.count
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < n, similarities[l] < similarities[smallest] { smallest = l }
            if r < n, similarities[r] < similarities[smallest] { smallest = r }
            guard smallest != i else { return }
            similarities.swapAt(i, smallest)
            slots.swapAt(i, smallest)
            i = smallest
        }
    }
}
