/// A binary min-heap of (key, node) pairs on two parallel arrays. The HNSW search uses it twice:
/// with key = similarity for the result set (root = worst kept result) and with key = −similarity
/// for the candidate queue (root = most promising candidate). Storage is kept between searches.
struct SimilarityHeap {
    private(set) var keys: [Float] = []
    private(set) var nodes: [Int32] = []

    var count: Int { keys.count }
    var isEmpty: Bool { keys.isEmpty }
    /// The smallest key; only valid when not empty.
    var minKey: Float { keys[0] }
    var minNode: Int32 { nodes[0] }

    mutating func removeAll() {
        keys.removeAll(keepingCapacity: true)
        nodes.removeAll(keepingCapacity: true)
    }

    mutating func push(_ key: Float, _ node: Int32) {
        keys.append(key)
        nodes.append(node)
        var i = keys.count - 1
        while i > 0 {
            let parent = (i - 1) >> 1
            guard keys[i] < keys[parent] else { break }
            keys.swapAt(i, parent)
            nodes.swapAt(i, parent)
            i = parent
        }
    }

    /// Removes the root (caller checks `isEmpty`).
    mutating func popMin() {
        let last = keys.count - 1
        keys.swapAt(0, last)
        nodes.swapAt(0, last)
        keys.removeLast()
        nodes.removeLast()
        let n = keys.count
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < n, keys[l] < keys[smallest] { smallest = l }
            if r < n, keys[r] < keys[smallest] { smallest = r }
            guard smallest != i else { return }
            keys.swapAt(i, smallest)
            nodes.swapAt(i, smallest)
            i = smallest
        }
    }
}
