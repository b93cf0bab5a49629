import BulkheadStorage
import Foundation

extension MessageStore {
    /// Applies operations inside one transaction.
    ///
    /// Cheap by construction (one group commit carries the changes of many requests):
    /// - a message inserted and deleted in the same batch (sent, received and acked between
    ///   two commits) never touches the table, and any other change to a message deleted in
    ///   the batch is dropped (the delete is final: ids are never reused);
    /// - consecutive inserts, delivery updates and deletes become multi-row statements.
    /// Changes to different messages commute, so grouping is safe as long as every change to
    /// one message keeps its order: pending groups are flushed before a dead-letter or move
    /// of a message they touch, and before a queue is deleted.
    static func apply(_ ops: [StoreOperation], to t: SQLiteTransaction) throws {
        var inserted = Set<Int64>()
        var deleted = Set<Int64>()
        var maxID: Int64 = 0
        for op in ops {
            switch op {
            case let .insertMessage(m):
                inserted.insert(m.id)
                maxID = max(maxID, m.id)
            case let .deleteMessage(id): deleted.insert(id)
            default: break
            }
        }
        var batch = WriteBatch()
        for op in ops {
            switch op {
            case let .upsertQueue(name, settings):
                try t.run(
                    "INSERT INTO queues (name, settings) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET settings = excluded.settings",
                    bindings: [.text(name), .blob(settings)])
            case let .deleteQueue(name):
                try batch.flush(t)
                try t.run("DELETE FROM messages WHERE queue = ?", bindings: [.text(name)])
                try t.run("DELETE FROM dedup WHERE queue = ?", bindings: [.text(name)])
                try t.run("DELETE FROM queues WHERE name = ?", bindings: [.text(name)])
            case let .insertMessage(m):
                if !deleted.contains(m.id) { batch.inserts.append(m) }
            case let .updateDelivery(id, state, visibleAt, receiveCount, first, last):
                guard !deleted.contains(id) else { continue }
                batch.updates[id] = [.integer(id), .integer(Int64(state.rawValue)), .integer(visibleAt), .integer(Int64(receiveCount)), SQLiteValue(first), SQLiteValue(last)]
            case let .deleteMessage(id):
                if !inserted.contains(id) { batch.deletes.append(id) }
            case let .deadLetter(id, deadAt, reason):
                guard !deleted.contains(id) else { continue }
                try batch.flush(t, before: id)
                try t.run(
                    "UPDATE messages SET state = ?, dead_at = ?, dead_reason = ? WHERE id = ?",
                    bindings: [.integer(Int64(MessageState.dead.rawValue)), .integer(deadAt), .text(reason), .integer(id)])
            case let .moveMessage(id, queue, state, visibleAt, receiveCount, source, deadAt, reason):
                guard !deleted.contains(id) else { continue }
                try batch.flush(t, before: id)
                try t.run(
                    "UPDATE messages SET queue = ?, state = ?, visible_at = ?, receive_count = ?, source_queue = ?, dead_at = ?, dead_reason = ? WHERE id = ?",
                    bindings: [
                        .text(queue), .integer(Int64(state.rawValue)), .integer(visibleAt), .integer(Int64(receiveCount)), SQLiteValue(source),
                        SQLiteValue(deadAt), SQLiteValue(reason), .integer(id),
                    ])
            case let .insertDedup(queue, key, id, expires):
                try t.run(
                    "INSERT OR REPLACE INTO dedup (queue, key, id, expires) VALUES (?, ?, ?, ?)",
                    bindings: [.text(queue), .text(key), .integer(id), .integer(expires)])
            case let .purgeDedup(before):
                try t.run("DELETE FROM dedup WHERE expires <= ?", bindings: [.integer(before)])
            case let .appendEvent(stream, e):
                try t.run(
                    "INSERT INTO stream_events (stream, id, type, data, time) VALUES (?, ?, ?, ?, ?)",
                    bindings: [.text(stream), .integer(e.id), SQLiteValue(e.type), .blob(e.data), .integer(e.time)])
            case let .trimStream(stream, through):
                try t.run("DELETE FROM stream_events WHERE stream = ? AND id <= ?", bindings: [.text(stream), .integer(through)])
            case let .deleteStream(stream):
                try t.run("DELETE FROM stream_events WHERE stream = ?", bindings: [.text(stream)])
            }
        }
        try batch.flush(t)
        if maxID > 0 {
            // Ids are never reused, even after the newest messages are deleted.
            try t.run(
                "INSERT INTO meta (key, value) VALUES ('last_id', ?) ON CONFLICT(key) DO UPDATE SET value = max(value, excluded.value)",
                bindings: [.integer(maxID)])
        }
    }

    /// Reads everything back into a fresh engine and stream log.
    public func load(into engine: inout QueueEngine, streams: inout StreamLog) throws {
        for row in try database.query("SELECT name, settings FROM queues") {
            guard let name = row.string(0) else { continue }
            let settings = row.blob(1).flatMap { try? JSONCoding.decoder.decode(QueueSettings.self, from: Data($0)) } ?? QueueSettings()
            engine.restoreQueue(name, settings: settings)
        }
        for row in try database.query(
            """
            SELECT id, queue, tenant, priority, body, attributes, idempotency_key, sent_at, visible_at, receive_count,
                first_received_at, last_received_at, state, dead_at, dead_reason, source_queue FROM messages ORDER BY id
            """)
        {
            guard let id = row.int64(0), let queue = row.string(1) else { continue }
            engine.restoreMessage(
                QueueMessage(
                    id: id, queue: queue, tenant: row.string(2) ?? "", priority: row.int(3) ?? 0, body: row.blob(4) ?? [],
                    attributes: row.blob(5) ?? Array("{}".utf8), idempotencyKey: row.string(6), sentAt: row.int64(7) ?? 0,
                    visibleAt: row.int64(8) ?? 0, receiveCount: row.int(9) ?? 0, firstReceivedAt: row.int64(10),
                    lastReceivedAt: row.int64(11), state: MessageState(rawValue: row.int(12) ?? 1) ?? .ready, leaseToken: nil,
                    deadAt: row.int64(13), deadReason: row.string(14), sourceQueue: row.string(15)))
        }
        for row in try database.query("SELECT queue, key, id, expires FROM dedup") {
            guard let q = row.string(0), let k = row.string(1), let id = row.int64(2), let e = row.int64(3) else { continue }
            engine.restoreDedup(queue: q, key: k, id: id, expires: e)
        }
        if let last = try database.queryFirst("SELECT value FROM meta WHERE key = 'last_id'")?.int64(0) {
            engine.restoreLastID(last)
        }
        for row in try database.query("SELECT stream, id, type, data, time FROM stream_events ORDER BY stream, id") {
            guard let s = row.string(0), let id = row.int64(1) else { continue }
            streams.restore(s, StreamEvent(id: id, type: row.string(2), data: row.blob(3) ?? [], time: row.int64(4) ?? 0))
        }
    }
}
