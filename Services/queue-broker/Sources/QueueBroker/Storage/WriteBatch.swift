import BulkheadStorage

/// Pending message-table writes of one transaction, written as multi-row statements.
///
/// Row counts per statement come from a few fixed sizes (32, 8, 1) so the connection's
/// prepared-statement cache holds a handful of texts instead of one per batch size.
struct WriteBatch {
    var inserts: [QueueMessage] = []
    /// Latest delivery bookkeeping per message (id, state, visible_at, receive_count, first, last).
    var updates: [Int64: [SQLiteValue]] = [:]
    var deletes: [Int64] = []

    static let chunkSizes = [32, 8, 1]

    /// Writes everything pending, in an order that is safe for every message
    /// (inserts before updates; deletes last: nothing else pending touches a deleted id).
    mutating func flush(_ t: SQLiteTransaction) throws {
        try flushInserts(t)
        try flushUpdates(t)
        try Self.chunked(deletes) { ids in
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            try t.run("DELETE FROM messages WHERE id IN (\(marks))", bindings: ids.map { .integer($0) })
        }
        deletes.removeAll(keepingCapacity: true)
    }

    /// Writes what must precede a single-row change to message `id`.
    mutating func flush(_ t: SQLiteTransaction, before id: Int64) throws {
        try flushInserts(t)
        if updates[id] != nil { try flushUpdates(t) }
    }

    private mutating func flushInserts(_ t: SQLiteTransaction) throws {
        try Self.chunked(inserts) { rows in
            let row = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            var bindings: [SQLiteValue] = []
            bindings.reserveCapacity(rows.count * 16)
            for m in rows {
                bindings += [
                    .integer(m.id), .text(m.queue), .text(m.tenant), .integer(Int64(m.priority)), .blob(m.body), .blob(m.attributes),
                    SQLiteValue(m.idempotencyKey), .integer(m.sentAt), .integer(m.visibleAt), .integer(Int64(m.receiveCount)),
                    SQLiteValue(m.firstReceivedAt), SQLiteValue(m.lastReceivedAt), .integer(Int64(m.state.rawValue)),
                    SQLiteValue(m.deadAt), SQLiteValue(m.deadReason), SQLiteValue(m.sourceQueue),
                ]
            }
            try t.run(
                """
                INSERT INTO messages (id, queue, tenant, priority, body, attributes, idempotency_key, sent_at, visible_at,
                    receive_count, first_received_at, last_received_at, state, dead_at, dead_reason, source_queue)
                VALUES \(Array(repeating: row, count: rows.count).joined(separator: ", "))
                """,
                bindings: bindings)
        }
        inserts.removeAll(keepingCapacity: true)
    }

    private mutating func flushUpdates(_ t: SQLiteTransaction) throws {
        // One row per id (the latest), so UPDATE ... FROM never sees two matches for a message.
        try Self.chunked(Array(updates.values)) { rows in
            let marks = Array(repeating: "(?, ?, ?, ?, ?, ?)", count: rows.count).joined(separator: ", ")
            try t.run(
                """
                UPDATE messages SET state = v.column2, visible_at = v.column3, receive_count = v.column4,
                    first_received_at = v.column5, last_received_at = v.column6
                FROM (VALUES \(marks)) AS v WHERE messages.id = v.column1
                """,
                bindings: rows.flatMap { $0 })
        }
        updates.removeAll(keepingCapacity: true)
    }

    /// Calls `body` with consecutive slices of `items` whose sizes are in `chunkSizes`.
    private static func chunked<T>(_ items: [T], _ body: ([T]) throws -> Void) throws {
        var start = 0
        for size in chunkSizes {
            while items.count - start >= size {
                try body(Array(items[start..<start + size]))
                start += size
            }
        }
    }
}
