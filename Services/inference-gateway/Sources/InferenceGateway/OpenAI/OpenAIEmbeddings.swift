import BulkheadHTTP
import Foundation

/// `POST /v1/embeddings` request body (OpenAI wire format). `input` is a string or an array of strings.
struct EmbeddingsRequest: Decodable {
    var model: String
    var input: [String]
    var encodingFormat: String?
    var dimensions: Int?
    var user: String?

    static let knownFields: Set<String> = ["model", "input", "encoding_format", "dimensions", "user"]

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        if let unknown = c.allKeys.first(where: { !Self.knownFields.contains($0.stringValue) }) {
            throw OpenAIError.invalid("Unrecognized request argument supplied: \(unknown.stringValue)", param: unknown.stringValue)
        }
        guard let model = try? c.decode(String.self, forKey: AnyCodingKey(stringValue: "model")) else {
            throw OpenAIError.invalid("'model' is required and must be a string.", param: "model")
        }
        self.model = model
        let inputKey = AnyCodingKey(stringValue: "input")
        guard c.contains(inputKey) else { throw OpenAIError.invalid("'input' is required.", param: "input") }
        if let single = try? c.decode(String.self, forKey: inputKey) {
            input = [single]
        } else if let many = try? c.decode([String].self, forKey: inputKey) {
            input = many
        } else {
            throw OpenAIError.invalid("'input' must be a string or an array of strings (token arrays are not supported).", param: "input")
        }
        let formatKey = AnyCodingKey(stringValue: "encoding_format")
        encodingFormat = try? c.decodeIfPresent(String.self, forKey: formatKey)
        if c.contains(formatKey), encodingFormat == nil, (try? c.decodeNil(forKey: formatKey)) != true {
            throw OpenAIError.invalid("'encoding_format' must be \"float\" or \"base64\".", param: "encoding_format")
        }
        let dimensionsKey = AnyCodingKey(stringValue: "dimensions")
        dimensions = try? c.decodeIfPresent(Int.self, forKey: dimensionsKey)
        if c.contains(dimensionsKey), dimensions == nil, (try? c.decodeNil(forKey: dimensionsKey)) != true {
            throw OpenAIError.invalid("'dimensions' must be an integer.", param: "dimensions")
        }
        user = try? c.decodeIfPresent(String.self, forKey: AnyCodingKey(stringValue: "user"))
    }
}

/// `POST /v1/embeddings` response body.
struct EmbeddingsResponse: Encodable {
    struct Item: Encodable {
        var object = "embedding"
        var index: Int
        var embedding: Embedding
    }
    /// Floats, or base64 of little-endian float32 bytes.
    enum Embedding: Encodable {
        case floats([Float])
        case base64(String)
        func encode(to encoder: any Encoder) throws {
            var c = encoder.singleValueContainer()
            switch self {
            case .floats(let v): try c.encode(v)
            case .base64(let s): try c.encode(s)
            }
        }
    }
    struct Usage: Encodable {
        var promptTokens: Int
        var totalTokens: Int
        enum CodingKeys: String, CodingKey { case promptTokens = "prompt_tokens", totalTokens = "total_tokens" }
    }
    var object = "list"
    var data: [Item]
    var model: String
    var usage: Usage

    static func base64(_ v: [Float]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(v.count * 4)
        for f in v { let b = f.bitPattern.littleEndian; for i in 0..<4 { bytes.append(UInt8((b >> (8 * UInt32(i))) & 0xFF)) } }
        return Data(bytes).base64EncodedString()
    }
}

/// `GET /v1/models` response body.
struct ModelList: Encodable {
    struct Model: Encodable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy: String
        var loaded: Bool
        /// Bulkhead's addition: `chat` or `embeddings`, the route the model serves (callers such
        /// as api-core check a job's kind before queueing it). OpenAI clients ignore it.
        var kind: String
        enum CodingKeys: String, CodingKey { case id, object, created, ownedBy = "owned_by", loaded, kind }
    }
    var object = "list"
    var data: [Model]
}
