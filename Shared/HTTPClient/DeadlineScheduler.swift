import BulkheadHTTP

/// Request, connect and idle deadlines of one client, multiplexed onto few event-loop timers.
///
/// The loop's `cancelTimer` only marks a timer, which stays queued until its deadline; at
/// thousands of requests per second with a 60 s timeout that is a lot of dead timers. Here a
/// cancelled deadline frees its action at once, the heap is compacted when mostly stale, and
/// a loop timer is armed only when a deadline earlier than the armed one appears.
///
/// Concurrency: confined to the client's event loop (the pool owns it), hence `@unchecked Sendable`.
final class DeadlineScheduler: @unchecked Sendable {
    private struct Entry {
        var deadline: UInt64
        var token: UInt64
    }

    let loop: EventLoop
    private var heap: [Entry] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextToken: UInt64 = 1
    /// Deadline of the earliest loop timer still pending (0: none).
    private var armed: UInt64 = 0

    init(loop: EventLoop) {
        self.loop = loop
    }

    /// Runs `action` on the loop at `deadline` (monotonic nanoseconds) unless cancelled first.
    func schedule(at deadline: UInt64, _ action: @escaping () -> Void) -> UInt64 {
        assert(loop.inEventLoop)
        let token = nextToken
        nextToken += 1
        actions[token] = action
        heap.append(Entry(deadline: deadline, token: token))
        siftUp(heap.count - 1)
        arm(deadline)
        return token
    }

    /// Runs `action` after `nanos` from now.
    func schedule(after nanos: UInt64, _ action: @escaping () -> Void) -> UInt64 {
        let now = EventLoop.now
        let deadline = now &+ nanos
        return schedule(at: deadline < now ? UInt64.max / 2 : deadline, action)
    }

    func cancel(_ token: UInt64) {
        guard actions.removeValue(forKey: token) != nil else { return }
        if heap.count > 64 && heap.count > 4 * actions.count { compact() }
    }

    /// Pending (not cancelled) deadlines.
    var count: Int { actions.count }

    // MARK: Firing

    private func arm(_ deadline: UInt64) {
        guard armed == 0 || deadline < armed else { return }
        armed = deadline
        loop.schedule(at: deadline) { [weak self] in self?.fired(deadline) }
    }

    private func fired(_ deadline: UInt64) {
        if deadline == armed { armed = 0 }
        let now = EventLoop.now
        while let top = heap.first, top.deadline <= now {
            popTop()
            if let action = actions.removeValue(forKey: top.token) { action() }
        }
        // Drop cancelled entries at the top, then make sure the earliest live one is armed.
        while let top = heap.first, actions[top.token] == nil { popTop() }
        if let top = heap.first { arm(top.deadline) }
    }

    // MARK: Heap

    private func compact() {
        heap.removeAll { actions[$0.token] == nil }
        var i = heap.count / 2 - 1
        while i >= 0 {
            siftDown(i)
            i -= 1
        }
    }

    private func siftUp(_ index: Int) {
        var i = index
        while i > 0 {
            let parent = (i - 1) / 2
            if heap[parent].deadline <= heap[i].deadline { break }
            heap.swapAt(parent, i)
            i = parent
        }
    }

    private func siftDown(_ index: Int) {
        var i = index
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < heap.count && heap[l].deadline < heap[m].deadline { m = l }
            if r < heap.count && heap[r].deadline < heap[m].deadline { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }

    private func popTop() {
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
    }
}
