import Foundation
import Shared

/// A `POST /v1/chat/completions` body, decoded leniently: the fields the gateway acts on are
/// read and validated, everything else stays in `fields` and goes on to OpenAI-compatible upstreams.
struct ChatRequest: Sendable {
    /// Every member of the body, minus gateway-only ones (`bulkhead_cache`).
    var fields: [String: JSONValue]
    var model: String
    var messages: [JSONValue]
    var stream: Bool
    /// `stream_options.include_usage` as the client asked.
    var includeUsage: Bool
    /// `max_completion_tokens` or `max_tokens`.
    var maxTokens: Int?
    var temperature: Double?
    var hasTools: Bool
    var n: Int
    /// `bulkhead_cache: false` in the body bypasses the cache.
    var cacheBypass: Bool

    /// Limits: messages per request, bytes of one message's text.
    static let maxMessages = 4096
    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool", "function"]

    /// Parses and validates a body; throws OpenAI-shaped 400s naming `param`.
    static func decode(_ body: [UInt8]) throws(GatewayError) -> ChatRequest {
        let value: JSONValue
        // The hand parser takes valid bodies; anything it refuses goes to the decoder, which
        // either accepts it after all or explains what is wrong.
        if let parsed = JSONReader.parse(body) {
            value = parsed
        } else {
            do { value = try JSONDecoder().decode(JSONValue.self, from: Data(body)) } catch {
            throw GatewayError.invalid(
                "We could not parse the JSON body of your request: \(EmbeddingsRoutes.describe(error))", param: nil, code: "invalid_json")
            }
        }
        guard case .object(var fields) = value else {
            throw GatewayError.invalid("The request body must be a JSON object.", param: nil, code: "invalid_json")
        }
        return try from(&fields)
    }

    /// Validates an already-decoded body (the job worker's way in).
    static func from(_ value: JSONValue) throws(GatewayError) -> ChatRequest {
        guard case .object(var fields) = value else {
            throw GatewayError.invalid("The request must be a JSON object.", param: nil, code: "invalid_json")
        }
        return try from(&fields)
    }

    private static func from(_ fields: inout [String: JSONValue]) throws(GatewayError) -> ChatRequest {
        guard let modelValue = fields["model"] else { throw GatewayError.invalid("you must provide a model parameter", param: "model", code: "missing_required_parameter") }
        guard let model = modelValue.stringValue, !model.isEmpty else {
            throw GatewayError.invalid("'model' must be a non-empty string.", param: "model", code: "invalid_type")
        }
        guard let messagesValue = fields["messages"] else {
            throw GatewayError.invalid("Missing required parameter: 'messages'.", param: "messages", code: "missing_required_parameter")
        }
        guard let messages = messagesValue.arrayValue else {
            throw GatewayError.invalid("'messages' must be an array.", param: "messages", code: "invalid_type")
        }
        guard !messages.isEmpty else {
            throw GatewayError.invalid("'messages' must contain at least one message.", param: "messages", code: "empty_array")
        }
        guard messages.count <= maxMessages else {
            throw GatewayError.invalid("'messages' has \(messages.count) items; at most \(maxMessages) are allowed.", param: "messages", code: "array_above_max_length")
        }
        for (i, m) in messages.enumerated() {
            guard let o = m.objectValue else { throw GatewayError.invalid("'messages[\(i)]' must be an object.", param: "messages[\(i)]", code: "invalid_type") }
            guard let role = o["role"]?.stringValue else {
                throw GatewayError.invalid("Missing required parameter: 'messages[\(i)].role'.", param: "messages[\(i)].role", code: "missing_required_parameter")
            }
            guard roles.contains(role) else {
                throw GatewayError.invalid(
                    "Invalid value: '\(role)'. Supported values are: 'system', 'developer', 'user', 'assistant', 'tool' and 'function'.",
                    param: "messages[\(i)].role", code: "invalid_value")
            }
            let content = o["content"] ?? .null
            switch content {
            case .string: break
            case .array(let parts):
                for (k, p) in parts.enumerated() where p["type"]?.stringValue == nil {
                    throw GatewayError.invalid("'messages[\(i)].content[\(k)]' must be an object with a 'type'.", param: "messages[\(i)].content[\(k)]", code: "invalid_type")
                }
            case .null:
                // Assistant messages with tool calls and no content are legitimate.
                if role != "assistant" {
                    throw GatewayError.invalid("Missing required parameter: 'messages[\(i)].content'.", param: "messages[\(i)].content", code: "missing_required_parameter")
                }
            default:
                throw GatewayError.invalid("'messages[\(i)].content' must be a string or an array of content parts.", param: "messages[\(i)].content", code: "invalid_type")
            }
        }
        let stream: Bool
        switch fields["stream"] {
        case nil, .null?: stream = false
        case .bool(let b)?: stream = b
        default: throw GatewayError.invalid("'stream' must be a boolean.", param: "stream", code: "invalid_type")
        }
        var includeUsage = false
        if let options = fields["stream_options"], options != .null {
            guard stream else {
                throw GatewayError.invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: "stream_options", code: "invalid_value")
            }
            guard let o = options.objectValue else { throw GatewayError.invalid("'stream_options' must be an object.", param: "stream_options", code: "invalid_type") }
            if let u = o["include_usage"], u != .null {
                guard let b = u.boolValue else { throw GatewayError.invalid("'stream_options.include_usage' must be a boolean.", param: "stream_options.include_usage", code: "invalid_type") }
                includeUsage = b
            }
        }
        let temperature = try number(fields, "temperature", range: 0...2)
        _ = try number(fields, "top_p", range: 0...1)
        _ = try number(fields, "presence_penalty", range: -2...2)
        _ = try number(fields, "frequency_penalty", range: -2...2)
        var maxTokens = try integer(fields, "max_completion_tokens", range: 1...10_000_000)
        if let legacy = try integer(fields, "max_tokens", range: 1...10_000_000) { maxTokens = maxTokens.map { min($0, legacy) } ?? legacy }
        let n = try integer(fields, "n", range: 1...128) ?? 1
        var hasTools = false
        if let tools = fields["tools"], tools != .null {
            guard let list = tools.arrayValue else { throw GatewayError.invalid("'tools' must be an array.", param: "tools", code: "invalid_type") }
            hasTools = !list.isEmpty
        }
        if let functions = fields["functions"], functions != .null { hasTools = true }
        var cacheBypass = false
        if let c = fields.removeValue(forKey: "bulkhead_cache") {
            guard let b = c.boolValue else { throw GatewayError.invalid("'bulkhead_cache' must be a boolean.", param: "bulkhead_cache", code: "invalid_type") }
            cacheBypass = !b
        }
        return ChatRequest(
            fields: fields, model: model, messages: messages, stream: stream, includeUsage: includeUsage, maxTokens: maxTokens,
            temperature: temperature, hasTools: hasTools, n: n, cacheBypass: cacheBypass)
    }

    private static func number(_ fields: [String: JSONValue], _ key: String, range: ClosedRange<Double>) throws(GatewayError) -> Double? {
        guard let v = fields[key], v != .null else { return nil }
        guard let d = v.doubleValue else { throw GatewayError.invalid("'\(key)' must be a number.", param: key, code: "invalid_type") }
        guard range.contains(d) else {
            throw GatewayError.invalid(
                "Invalid '\(key)': \(d) is outside the allowed range [\(range.lowerBound), \(range.upperBound)].", param: key, code: "invalid_value")
        }
        return d
    }

    private static func integer(_ fields: [String: JSONValue], _ key: String, range: ClosedRange<Int>) throws(GatewayError) -> Int? {
        guard let v = fields[key], v != .null else { return nil }
        guard let d = v.doubleValue, d.rounded() == d, abs(d) < 1e15 else {
            throw GatewayError.invalid("'\(key)' must be an integer.", param: key, code: "invalid_type")
        }
        let i = Int(d)
        guard range.contains(i) else {
            throw GatewayError.invalid("Invalid '\(key)': \(i) must be between \(range.lowerBound) and \(range.upperBound).", param: key, code: "invalid_value")
        }
        return i
    }

    /// The text of every message, in order (for token estimates and the semantic cache).
    var conversationText: String {
        var out = ""
        for m in messages {
            if let role = m["role"]?.stringValue { out += role; out += ": " }
            out += Self.text(of: m["content"])
            out += "\n"
        }
        return out
    }

    /// The plain text of a message `content` (string, or the text parts of an array).
    static func text(of content: JSONValue?) -> String {
        switch content {
        case .string(let s)?: return s
        case .array(let parts)?:
            var out = ""
            for p in parts { if let t = p["text"]?.stringValue { if !out.isEmpty { out += "\n" }; out += t } }
            return out
        default: return ""
        }
    }
}
