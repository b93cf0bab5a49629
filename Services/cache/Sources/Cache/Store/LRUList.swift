/// A least-recently-used order over ids: a doubly linked list threaded through a dictionary,
/// so push, touch and remove are O(1). Id 0 is reserved as "none".
struct LRUList {
    private struct Link {
        var prev: UInt64
        var next: UInt64
    }

    private var links: [UInt64: Link] = [:]
    /// Least recently used (evicted first).
    private(set) var oldest: UInt64 = 0
    /// Most recently used.
    private(set) var newest: UInt64 = 0

    var count: Int { links.count }

    /// Appends `id` as the most recent (moving it if present).
    mutating func pushNewest(_ id: UInt64) {
        remove(id)
        links[id] = Link(prev: newest, next: 0)
        if newest != 0 { links[newest]?.next = id }
        newest = id
        if oldest == 0 { oldest = id }
    }

    /// Removes `id` if present.
    mutating func remove(_ id: UInt64) {
        guard let link = links.removeValue(forKey: id) else { return }
        if link.prev != 0 { links[link.prev]?.next = link.next } else { oldest = link.next }
        if link.next != 0 { links[link.next]?.prev = link.prev } else { newest = link.prev }
    }

    mutating func removeAll() {
        links = [:]
        oldest = 0
        newest = 0
    }

    /// The least recently used id, or nil when empty.
    var oldestID: UInt64? { oldest == 0 ? nil : oldest }
}
