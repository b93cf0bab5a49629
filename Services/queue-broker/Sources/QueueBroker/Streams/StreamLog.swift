/// Append-only event streams by key, with retention by age and length; a value type driven
/// with explicit times. Trimmed ids are never reused (`lastID` survives trimming).
public struct StreamLog: Sendable {
    struct Stream: Sendable {
        var events: [StreamEvent] = []
        var lastID: Int64 = 0
    }
    var streams: [String: Stream] = [:]
    /// Events older than this are dropped (milliseconds).
    public var maxAge: Int64
    /// At most this many events are kept per stream.
    public var maxLength: Int
    /// Changes to persist, in order.
    public var outbox: [StoreOperation] = []

    /// A log with the given retention.
    public init(maxAge: Int64, maxLength: Int) {
        self.maxAge = maxAge
        self.maxLength = maxLength
    }

    /// Appends events; returns their ids.
    public mutating func append(_ key: String, _ items: [(type: String?, data: [UInt8])], now: Int64) throws(BrokerError) -> [Int64] {
        try QueueName.validate(key, field: "stream key")
        var s = streams[key] ?? Stream()
        var ids: [Int64] = []
        for item in items {
            s.lastID += 1
            let e = StreamEvent(id: s.lastID, type: item.type, data: item.data, time: now)
            s.events.append(e)
            outbox.append(.appendEvent(stream: key, event: e))
            ids.append(e.id)
        }
        streams[key] = s
        trim(key, now: now)
        return ids
    }

    /// Events with id greater than `after`, at most `limit`.
    public func read(_ key: String, after: Int64, limit: Int) -> [StreamEvent] {
        guard let s = streams[key] else { return [] }
        let first = Self.firstIndex(in: s.events, after: after)
        return Array(s.events[first..<(first + min(limit, s.events.count - first))])
    }

    /// Ids increase, so binary-search the first event past `after`.
    private static func firstIndex(in events: [StreamEvent], after: Int64) -> Int {
        var lo = 0, hi = events.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if events[mid].id <= after { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }

    /// Events with id greater than `after` whose type is one of `types`, at most `limit`, and the
    /// id through which the stream was scanned (the next read's `after`): the last event
    /// returned when the page is full, the stream's newest id otherwise.
    public func read(_ key: String, after: Int64, limit: Int, types: Set<String>) -> (events: [StreamEvent], scannedThrough: Int64) {
        guard let s = streams[key] else { return ([], after) }
        var out: [StreamEvent] = []
        for e in s.events[Self.firstIndex(in: s.events, after: after)...] where e.type.map(types.contains) ?? false {
            out.append(e)
            if out.count == limit { return (out, e.id) }
        }
        return (out, max(after, lastID(key)))
    }

    /// The newest id of a stream (0 when it has none).
    public func lastID(_ key: String) -> Int64 { streams[key]?.lastID ?? 0 }

    /// Whether the stream exists (has ever had an event since the last delete).
    public func exists(_ key: String) -> Bool { streams[key] != nil }

    /// Deletes a stream.
    public mutating func delete(_ key: String) -> Bool {
        guard streams.removeValue(forKey: key) != nil else { return false }
        outbox.append(.deleteStream(stream: key))
        return true
    }

    /// Applies retention to one stream.
    mutating func trim(_ key: String, now: Int64) {
        guard var s = streams[key] else { return }
        var drop = max(0, s.events.count - maxLength)
        while drop < s.events.count && s.events[drop].time < now - maxAge { drop += 1 }
        guard drop > 0 else { return }
        let through = s.events[drop - 1].id
        s.events.removeFirst(drop)
        streams[key] = s
        outbox.append(.trimStream(stream: key, throughID: through))
    }

    /// Applies retention to every stream.
    public mutating func sweep(now: Int64) {
        for key in streams.keys { trim(key, now: now) }
    }

    /// Restores a stored event (no outbox entry).
    public mutating func restore(_ key: String, _ event: StreamEvent) {
        var s = streams[key] ?? Stream()
        s.events.append(event)
        s.lastID = max(s.lastID, event.id)
        streams[key] = s
    }
}
