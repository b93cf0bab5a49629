/// One queue's in-memory state: messages, the fair ready structure and the timers.
///
/// Fairness: each tenant has ten FIFO buckets (one per priority); `tenantRing` holds the
/// tenants that have ready messages, and a receive takes one message from the tenant at the
/// front and moves that tenant to the back (round-robin). So a tenant with 100,000 messages
/// gets one turn per round like a tenant with one; priority orders messages within a tenant.
struct QueueState: Sendable {
    var name: String
    var settings: QueueSettings
    var messages: [Int64: QueueMessage] = [:]
    var readyByTenant: [String: TenantReady] = [:]
    var tenantRing = FIFO<String>()
    var timers = TimerHeap()
    /// Idempotency key → (message id, expiry).
    var dedup: [String: (id: Int64, expires: Int64)] = [:]
    var stats = QueueCounters()

    struct TenantReady: Sendable {
        var buckets = [FIFO<Int64>](repeating: FIFO<Int64>(), count: 10)
        var count = 0
        mutating func push(_ id: Int64, priority: Int) {
            buckets[max(0, min(9, priority))].push(id)
            count += 1
        }
        mutating func pop() -> Int64? {
            for p in stride(from: 9, through: 0, by: -1) where !buckets[p].isEmpty {
                count -= 1
                return buckets[p].pop()
            }
            return nil
        }
    }

    init(name: String, settings: QueueSettings) {
        self.name = name
        self.settings = settings
    }

    /// Makes a message receivable (it must already be in `messages` with state `.ready`).
    mutating func enqueueReady(_ message: QueueMessage) {
        // Mutated in place (`default:` subscript): copying a tenant's buckets out and back
        // would copy its whole backlog on every message.
        if readyByTenant[message.tenant]?.count ?? 0 == 0 { tenantRing.push(message.tenant) }
        readyByTenant[message.tenant, default: TenantReady()].push(message.id, priority: message.priority)
    }

    /// The next ready message id in fair order, skipping entries whose message is gone.
    mutating func popReady() -> Int64? {
        while let tenant = tenantRing.pop() {
            guard let id = readyByTenant[tenant]?.pop() else {
                readyByTenant[tenant] = nil
                continue
            }
            if readyByTenant[tenant]?.count ?? 0 > 0 { tenantRing.push(tenant) } else { readyByTenant[tenant] = nil }
            if messages[id]?.state == .ready { return id }
        }
        return nil
    }

    /// Earliest pending timer (delay end or lease expiry), if any.
    var nextDue: Int64? { timers.first?.due }
}

/// Send/receive/ack counters and 1-second buckets for rates.
struct QueueCounters: Sendable {
    var sent: Int64 = 0
    var received: Int64 = 0
    var acked: Int64 = 0
    var deadLettered: Int64 = 0
    /// Per-second counts for the last `window` seconds: [second] → (sent, received, acked).
    var buckets: [Int64: (Int64, Int64, Int64)] = [:]
    static let window: Int64 = 10

    mutating func record(now: Int64, sent s: Int64 = 0, received r: Int64 = 0, acked a: Int64 = 0) {
        sent += s
        received += r
        acked += a
        let second = now / 1000
        let old = buckets[second] ?? (0, 0, 0)
        buckets[second] = (old.0 + s, old.1 + r, old.2 + a)
        if buckets.count > Int(Self.window) + 2 {
            buckets = buckets.filter { $0.key > second - Self.window }
        }
    }

    /// Per-second rates over the last full `window` seconds.
    func rates(now: Int64) -> (sent: Double, received: Double, acked: Double) {
        let second = now / 1000
        var s: Int64 = 0, r: Int64 = 0, a: Int64 = 0
        for (k, v) in buckets where k >= second - Self.window && k < second {
            s += v.0
            r += v.1
            a += v.2
        }
        let w = Double(Self.window)
        return (Double(s) / w, Double(r) / w, Double(a) / w)
    }
}
