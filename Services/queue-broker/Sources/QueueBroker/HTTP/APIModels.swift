/// `POST .../messages` and each item of a batch.
struct SendRequest: Decodable, Sendable {
    var body: JSONValue
    var attributes: [String: String]?
    var priority: Int?
    var delaySeconds: Double?
    var tenant: String?
    var idempotencyKey: String?

    enum CodingKeys: String, CodingKey {
        case body, attributes, priority, tenant
        case delaySeconds = "delay_seconds"
        case idempotencyKey = "idempotency_key"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["body", "attributes", "priority", "tenant", "delay_seconds", "idempotency_key"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        body = try c.decode(JSONValue.self, forKey: .body)
        attributes = try c.decodeIfPresent([String: String].self, forKey: .attributes)
        priority = try c.decodeIfPresent(Int.self, forKey: .priority)
        delaySeconds = try c.decodeIfPresent(Double.self, forKey: .delaySeconds)
        tenant = try c.decodeIfPresent(String.self, forKey: .tenant)
        idempotencyKey = try c.decodeIfPresent(String.self, forKey: .idempotencyKey)
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
            body: body.bytes, attributes: attributeBytes, priority: priority ?? 0, delaySeconds: delaySeconds,
            tenant: tenant ?? "", idempotencyKey: idempotencyKey)
    }
}

/// `POST .../messages/batch`.
struct SendBatchRequest: Decodable, Sendable {
    var messages: [SendRequest]
    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["messages"])
        messages = try decoder.container(keyedBy: AnyKey.self).decode([SendRequest].self, forKey: AnyKey(stringValue: "messages"))
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
        let c = try decoder.container(keyedBy: AnyKey.self)
        type = try c.decodeIfPresent(String.self, forKey: AnyKey(stringValue: "type"))
        data = try c.decode(JSONValue.self, forKey: AnyKey(stringValue: "data"))
    }
}

/// `POST /internal/v1/streams/{key}/events`: one event, or `{"events":[...]}`.
struct AppendRequest: Decodable, Sendable {
    var events: [AppendItem]
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyKey.self)
        if c.contains(AnyKey(stringValue: "events")) {
            try decoder.rejectUnknownKeys(["events"])
            events = try c.decode([AppendItem].self, forKey: AnyKey(stringValue: "events"))
        } else {
            events = [try AppendItem(from: decoder)]
        }
    }
}
