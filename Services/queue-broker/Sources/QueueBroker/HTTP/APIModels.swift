import Shared
import BulkheadHTTP

/// `POST .../messages` and each item of a batch.
///
/// Read with `JSONScanner`, not `Decodable`: the body is kept as the bytes the client sent
/// (validated, never decoded into a tree and encoded again).
struct SendRequest: Sendable {
    var body: [UInt8] = []
    var attributes: [String: String]?
    var priority: Int?
    var delaySeconds: Double?
    var tenant: String?
    var idempotencyKey: String?

    /// Parses a whole request body.
    static func parse(_ bytes: [UInt8]) throws -> SendRequest {
        var s = JSONScanner(bytes)
        let r = try parse(&s, path: "")
        try s.finish()
        return r
    }

    /// Parses one object at the scanner's position; `path` prefixes field names in errors.
    static func parse(_ s: inout JSONScanner, path: String) throws -> SendRequest {
        var r = SendRequest()
        var sawBody = false
        s.skipWhitespace()
        guard s.peek() == UInt8(ascii: "{") else {
            if path.isEmpty { throw JSONScanner.invalid("expected an object") }
            throw FieldError.invalid(path, "an object")
        }
        try s.object { s, key in
            let field = path + key
            switch key {
            case "body":
                let range = try s.value()
                r.body = Array(s.bytes[range])
                sawBody = true
            case "attributes":
                if try s.skipNull() { return }
                guard s.peek() == UInt8(ascii: "{") else { throw FieldError.invalid(field, "an object of strings") }
                var attributes: [String: String] = [:]
                try s.object { s, k in
                    s.skipWhitespace()
                    guard s.peek() == UInt8(ascii: "\"") else { throw FieldError.invalid(field + "." + k, "a string") }
                    attributes[k] = try s.string()
                }
                r.attributes = attributes
            case "priority":
                if try s.skipNull() { return }
                guard let v = try s.numberText().flatMap({ Int($0) }) else { throw FieldError.invalid(field, "an integer") }
                r.priority = v
            case "delay_seconds":
                if try s.skipNull() { return }
                guard let v = try s.numberText().flatMap({ Double($0) }) else { throw FieldError.invalid(field, "a number") }
                r.delaySeconds = v
            case "tenant":
                if try s.skipNull() { return }
                r.tenant = try s.stringField(field)
            case "idempotency_key":
                if try s.skipNull() { return }
                r.idempotencyKey = try s.stringField(field)
            default:
                throw HTTPError(.unprocessableContent, code: "unknown_field", message: "Unknown field '\(field)'.")
            }
        }
        guard sawBody else { throw HTTPError(.unprocessableContent, code: "missing_field", message: "Field '\(path)body' is required.") }
        return r
    }

    /// Checks limits and builds the engine's message.
    func outgoing() throws(BrokerError) -> OutgoingMessage {
        let attributes = attributes ?? [:]
        guard attributes.count <= 16 else { throw .invalid("attributes", "may have at most 16 entries, got \(attributes.count)") }
        for (k, v) in attributes where k.isEmpty || k.utf8.count > 128 || v.utf8.count > 1024 {
            throw .invalid("attributes", "keys must be 1–128 bytes and values at most 1024 bytes ('\(k.prefix(40))')")
        }
        if let t = tenant, t.utf8.count > 128 { throw .invalid("tenant", "must be at most 128 bytes") }
        if let k = idempotencyKey, k.isEmpty || k.utf8.count > 128 { throw .invalid("idempotency_key", "must be 1–128 bytes") }
        let attributeBytes = attributes.isEmpty ? Array("{}".utf8) : ((try? JSONCoding.encoder.encode(attributes)).map { Array($0) } ?? Array("{}".utf8))
        return OutgoingMessage(
            body: body, attributes: attributeBytes, priority: priority ?? 0, delaySeconds: delaySeconds,
            tenant: tenant ?? "", idempotencyKey: idempotencyKey)
    }
}

/// `POST .../messages/batch`.
struct SendBatchRequest: Sendable {
    var messages: [SendRequest] = []

    static func parse(_ bytes: [UInt8]) throws -> SendBatchRequest {
        var s = JSONScanner(bytes)
        var r = SendBatchRequest()
        var saw = false
        s.skipWhitespace()
        guard s.peek() == UInt8(ascii: "{") else { throw JSONScanner.invalid("expected an object") }
        try s.object { s, key in
            guard key == "messages" else { throw HTTPError(.unprocessableContent, code: "unknown_field", message: "Unknown field '\(key)'.") }
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: "[") else { throw FieldError.invalid("messages", "an array") }
            saw = true
            try s.array { s in
                guard r.messages.count < 1000 else { throw HTTPError(.unprocessableContent, code: "batch_size", message: "A batch holds 1–10 messages.") }
                r.messages.append(try SendRequest.parse(&s, path: "messages[\(r.messages.count)]."))
            }
        }
        try s.finish()
        guard saw else { throw HTTPError(.unprocessableContent, code: "missing_field", message: "Field 'messages' is required.") }
        return r
    }
}

/// `POST .../receive`.
struct ReceiveRequest: Decodable, Sendable {
    var maxMessages: Int = 1
    var waitSeconds: Double = 0
    var visibilityTimeoutSeconds: Double?
    enum CodingKeys: String, CodingKey {
        case maxMessages = "max_messages"
        case waitSeconds = "wait_seconds"
        case visibilityTimeoutSeconds = "visibility_timeout_seconds"
    }
    init() {}
    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["max_messages", "wait_seconds", "visibility_timeout_seconds"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxMessages = try c.decodeIfPresent(Int.self, forKey: .maxMessages) ?? 1
        waitSeconds = try c.decodeIfPresent(Double.self, forKey: .waitSeconds) ?? 0
        visibilityTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .visibilityTimeoutSeconds)
    }
}

/// Body of ack / extend / nack / release.
struct LeaseRequest: Decodable, Sendable {
    var receipt: String?
    var receipts: [String]?
    var visibilityTimeoutSeconds: Double?
    var delaySeconds: Double?
    enum CodingKeys: String, CodingKey {
        case receipt, receipts
        case visibilityTimeoutSeconds = "visibility_timeout_seconds"
        case delaySeconds = "delay_seconds"
    }
    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["receipt", "receipts", "visibility_timeout_seconds", "delay_seconds"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        receipt = try c.decodeIfPresent(String.self, forKey: .receipt)
        receipts = try c.decodeIfPresent([String].self, forKey: .receipts)
        visibilityTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .visibilityTimeoutSeconds)
        delaySeconds = try c.decodeIfPresent(Double.self, forKey: .delaySeconds)
    }

    func single() throws(BrokerError) -> String {
        guard let receipt else { throw BrokerError(422, "missing_field", "Field 'receipt' is required.") }
        return receipt
    }
}

/// One event to append.
struct AppendItem: Decodable, Sendable {
    var type: String?
    var data: JSONValue
    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["type", "data"])
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        type = try c.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "type"))
        data = try c.decode(JSONValue.self, forKey: AnyCodingKey(stringValue: "data"))
    }
}

/// `POST /internal/v1/streams/{key}/events`: one event, or `{"events":[...]}`.
struct AppendRequest: Decodable, Sendable {
    var events: [AppendItem]
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        if c.contains(AnyCodingKey(stringValue: "events")) {
            try decoder.rejectUnknownKeys(["events"])
            events = try c.decode([AppendItem].self, forKey: AnyCodingKey(stringValue: "events"))
        } else {
            events = [try AppendItem(from: decoder)]
        }
    }
}

/// Field-level errors of the hand-read request bodies, worded as `RequestDecoding`'s.
enum FieldError {
    static func invalid(_ field: String, _ what: String) -> HTTPError {
        let name = field.hasSuffix(".") ? String(field.dropLast()) : field
        return HTTPError(.unprocessableContent, code: "invalid_field", message: "Field '\(name)' must be \(what).")
    }
}

extension JSONScanner {
    /// Consumes `null` and returns true, or returns false leaving the value in place.
    mutating func skipNull() throws -> Bool {
        skipWhitespace()
        guard peek() == UInt8(ascii: "n") else { return false }
        _ = try value()
        return true
    }

    /// The text of a number value, or nil (value consumed either way) when it is not a number.
    mutating func numberText() throws -> String? {
        skipWhitespace()
        let isNumber = peek().map { $0 == UInt8(ascii: "-") || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) } ?? false
        let range = try value()
        return isNumber ? String(decoding: bytes[range], as: UTF8.self) : nil
    }

    /// A string value, or 422 `invalid_field` naming `field`.
    mutating func stringField(_ field: String) throws -> String {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw FieldError.invalid(field, "a string") }
        return try string()
    }
}
