import BulkheadHTTP

/// Hand-built JSON for the hot responses: message bodies are stored as JSON text and spliced
/// in without re-parsing.
enum ResponseRendering {
    static func json(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        .json(bytes: Array(text.utf8), status: status)
    }

    static func encodable<T: Encodable>(_ value: T, status: HTTPStatus = .ok) -> HTTPResponse {
        .json(bytes: (try? JSONCoding.encoder.encode(value)).map { Array($0) } ?? Array("{}".utf8), status: status)
    }

    static func message(_ m: QueueMessage, receipt: String?, into out: inout [UInt8]) {
        var head = "{\"id\":\(m.id),\"queue\":\(JSONText.quoted(m.queue)),\"tenant\":\(JSONText.quoted(m.tenant)),\"priority\":\(m.priority)"
        head += ",\"receive_count\":\(m.receiveCount),\"sent_at\":\(m.sentAt)"
        if let receipt { head += ",\"receipt\":\(JSONText.quoted(receipt)),\"lease_expires_at\":\(m.visibleAt)" }
        if m.state == .dead || m.deadAt != nil {
            head += ",\"first_received_at\":\(m.firstReceivedAt.map(String.init) ?? "null"),\"last_received_at\":\(m.lastReceivedAt.map(String.init) ?? "null")"
            head += ",\"dead_lettered_at\":\(m.deadAt.map(String.init) ?? "null"),\"dead_letter_reason\":\(m.deadReason.map(JSONText.quoted) ?? "null")"
        }
        if let source = m.sourceQueue { head += ",\"source_queue\":\(JSONText.quoted(source))" }
        if let key = m.idempotencyKey { head += ",\"idempotency_key\":\(JSONText.quoted(key))" }
        out += Array(head.utf8)
        out += Array(",\"attributes\":".utf8)
        out += m.attributes
        out += Array(",\"body\":".utf8)
        out += m.body
        out.append(UInt8(ascii: "}"))
    }

    static func messages(_ list: [(QueueMessage, String?)]) -> HTTPResponse {
        var out = Array("{\"messages\":[".utf8)
        for (i, item) in list.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            message(item.0, receipt: item.1, into: &out)
        }
        out += Array("]}".utf8)
        return .json(bytes: out)
    }

    static func events(_ events: [StreamEvent], lastID: Int64) -> HTTPResponse {
        var out = Array("{\"events\":[".utf8)
        for (i, e) in events.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out += Array("{\"id\":\(e.id),\"type\":\(e.type.map(JSONText.quoted) ?? "null"),\"time\":\(e.time),\"data\":".utf8)
            out += e.data
            out.append(UInt8(ascii: "}"))
        }
        out += Array("],\"last_id\":\(lastID)}".utf8)
        return .json(bytes: out)
    }
}
