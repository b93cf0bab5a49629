import BulkheadHTTP
import Shared

/// `PUT /internal/v1/cache/{tenant}/{namespace}/entries/{key}`.
struct PutEntryBody: Decodable, VectorCarrying {
    var vector: [Double]?
    var text: String?
    var response: JSONValue?
    var usage: JSONValue?
    var costMicroUSD: Int?
    var ttlSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case vector, text, response, usage
        case costMicroUSD = "cost_micro_usd", ttlSeconds = "ttl_seconds"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(Set(["vector", "text", "response", "usage", "cost_micro_usd", "ttl_seconds"]))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vector = try c.decodeIfPresent([Double].self, forKey: .vector)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        response = try c.decodeIfPresent(JSONValue.self, forKey: .response)
        usage = try c.decodeIfPresent(JSONValue.self, forKey: .usage)
        costMicroUSD = try c.integer(.costMicroUSD)
        ttlSeconds = try c.integer(.ttlSeconds)
    }

    var vectorValues: [Double]? { vector }
}

/// `POST /internal/v1/cache/{tenant}/{namespace}/lookup`.
struct LookupBody: Decodable, VectorCarrying {
    var key: String?
    var vector: [Double]?
    var text: String?
    var threshold: Double?
    var exactOnly: Bool?

    enum CodingKeys: String, CodingKey {
        case key, vector, text, threshold
        case exactOnly = "exact_only"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(Set(["key", "vector", "text", "threshold", "exact_only"]))
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decodeIfPresent(String.self, forKey: .key)
        vector = try c.decodeIfPresent([Double].self, forKey: .vector)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        threshold = try c.decodeIfPresent(Double.self, forKey: .threshold)
        exactOnly = try c.decodeIfPresent(Bool.self, forKey: .exactOnly)
    }

    var vectorValues: [Double]? { vector }
}

/// `POST /internal/v1/counters/apply`.
struct ApplyBody: Decodable, VectorCarrying {
    struct Op: Decodable {
        var key: String
        var kind: String
        var amount: Int
        var capacity: Int?
        var refillPerSecond: Double?
        var limit: Int?
        var ttlSeconds: Int
        var force: Bool?

        enum CodingKeys: String, CodingKey {
            case key, kind, amount, capacity, limit, force
            case refillPerSecond = "refill_per_second", ttlSeconds = "ttl_seconds"
        }

        init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(Set(["key", "kind", "amount", "capacity", "refill_per_second", "limit", "ttl_seconds", "force"]))
            let c = try decoder.container(keyedBy: CodingKeys.self)
            key = try c.decode(String.self, forKey: .key)
            kind = try c.decode(String.self, forKey: .kind)
            amount = try c.requiredInteger(.amount)
            capacity = try c.integer(.capacity)
            refillPerSecond = try c.decodeIfPresent(Double.self, forKey: .refillPerSecond)
            limit = try c.integer(.limit)
            ttlSeconds = try c.requiredInteger(.ttlSeconds)
            force = try c.decodeIfPresent(Bool.self, forKey: .force)
        }
    }

    var ops: [Op]

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(["ops"])
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        ops = try c.decode([Op].self, forKey: AnyCodingKey(stringValue: "ops"))
    }

    var vectorValues: [Double]? { nil }
}
