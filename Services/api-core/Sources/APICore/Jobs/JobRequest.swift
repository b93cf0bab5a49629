import BulkheadHTTP
import Shared

/// A validated `POST /v1/jobs` body. Limits are explicit and every refusal names its field.
struct JobRequest: Sendable, Equatable, Encodable {
    var kind: AIJobKind
    var model: String
    var input: JSONValue
    var parameters: [String: JSONValue]
    var priority: Int
    var metadata: [String: String]

    /// Body limit of `POST /v1/jobs` (413 beyond, from the server).
    static let bodyLimit = 256 * 1024
    static let maximumMessages = 256
    static let maximumEmbeddingInputs = 2048
    static let maximumParameters = 32
    static let maximumMetadataKeys = 16
    static let maximumMetadataKeyLength = 64
    static let maximumMetadataValueLength = 512
    static let maximumModelLength = 128
    static let defaultPriority = 5
    static let fields: Set<String> = ["kind", "model", "input", "parameters", "priority", "metadata"]
    /// Fields the job itself decides; a parameter may not override them.
    static let reservedParameters: Set<String> = ["model", "messages", "input", "stream", "n"]
    static let roles: Set<String> = ["system", "user", "assistant", "tool", "developer"]

    /// Parses and validates the body.
    /// - Throws: 400 `invalid_json`; 422 `unknown_field`, `missing_field`, `invalid_field`; 413 `too_many_items`.
    init(body: [UInt8]) throws(HTTPError) {
        let o = try JSONInput.object(body)
        if let unknown = o.keys.sorted().first(where: { !Self.fields.contains($0) }) {
            throw JSONInput.invalid(
                String(unknown.prefix(64)), "is not accepted; use \(Self.fields.sorted().joined(separator: ", ")).", code: "unknown_field")
        }
        guard let kindValue = o["kind"] else { throw JSONInput.invalid("kind", "is required (chat or embedding).", code: "missing_field") }
        guard let k = kindValue.stringValue.flatMap(AIJobKind.init(rawValue:)) else {
            throw JSONInput.invalid("kind", "must be \"chat\" or \"embedding\".")
        }
        kind = k
        guard let modelValue = o["model"] else { throw JSONInput.invalid("model", "is required.", code: "missing_field") }
        guard let m = modelValue.stringValue, !m.isEmpty, m.utf8.count <= Self.maximumModelLength,
            m.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw JSONInput.invalid("model", "must be a model name of 1–\(Self.maximumModelLength) printable ASCII characters.") }
        model = m
        guard let inputValue = o["input"] else { throw JSONInput.invalid("input", "is required.", code: "missing_field") }
        guard case .object(let input) = inputValue else { throw JSONInput.invalid("input", "must be an object.") }
        try Self.validate(input: input, kind: k)
        self.input = inputValue
        switch o["parameters"] {
        case nil, .null?: parameters = [:]
        case .object(let p)?:
            guard p.count <= Self.maximumParameters else {
                throw JSONInput.invalid("parameters", "may hold at most \(Self.maximumParameters) fields.")
            }
            if let reserved = p.keys.sorted().first(where: { Self.reservedParameters.contains($0) }) {
                throw JSONInput.invalid("parameters.\(reserved)", "is set by the job itself and cannot be a parameter.")
            }
            parameters = p
        default: throw JSONInput.invalid("parameters", "must be an object of OpenAI request fields.")
        }
        switch o["priority"] {
        case nil, .null?: priority = Self.defaultPriority
        case .number(let n)? where n.rounded() == n && (0...9).contains(n): priority = Int(n)
        default: throw JSONInput.invalid("priority", "must be an integer from 0 to 9 (9 runs first).")
        }
        switch o["metadata"] {
        case nil, .null?: metadata = [:]
        case .object(let md)?:
            guard md.count <= Self.maximumMetadataKeys else {
                throw JSONInput.invalid("metadata", "may hold at most \(Self.maximumMetadataKeys) keys, got \(md.count).")
            }
            var out: [String: String] = [:]
            for (key, value) in md {
                guard !key.isEmpty, key.count <= Self.maximumMetadataKeyLength else {
                    throw JSONInput.invalid("metadata", "keys must be 1–\(Self.maximumMetadataKeyLength) characters.")
                }
                guard let s = value.stringValue, s.count <= Self.maximumMetadataValueLength else {
                    throw JSONInput.invalid("metadata.\(key)", "must be a string of at most \(Self.maximumMetadataValueLength) characters.")
                }
                out[key] = s
            }
            metadata = out
        default: throw JSONInput.invalid("metadata", "must be an object of strings.")
        }
    }

    private static func validate(input: [String: JSONValue], kind: AIJobKind) throws(HTTPError) {
        switch kind {
        case .chat:
            if let extra = input.keys.sorted().first(where: { $0 != "messages" }) {
                throw JSONInput.invalid("input.\(extra.prefix(64))", "is not accepted for chat jobs; input holds only messages.", code: "unknown_field")
            }
            guard let mv = input["messages"] else {
                throw JSONInput.invalid("input.messages", "is required for chat jobs.", code: "missing_field")
            }
            guard case .array(let messages) = mv, !messages.isEmpty else {
                throw JSONInput.invalid("input.messages", "must be a non-empty array of messages.")
            }
            guard messages.count <= maximumMessages else {
                throw HTTPError(
                    .payloadTooLarge, code: "too_many_items",
                    message: "Field 'input.messages' may hold at most \(maximumMessages) messages, got \(messages.count).")
            }
            for (i, message) in messages.enumerated() {
                guard case .object(let m) = message else { throw JSONInput.invalid("input.messages[\(i)]", "must be an object.") }
                guard let role = m["role"]?.stringValue, roles.contains(role) else {
                    throw JSONInput.invalid("input.messages[\(i)].role", "must be one of \(roles.sorted().joined(separator: ", ")).")
                }
                switch m["content"] {
                case .string?, .array?: break
                case .null?, nil:
                    // An assistant message may carry only tool calls.
                    if role != "assistant" {
                        throw JSONInput.invalid("input.messages[\(i)].content", "is required for \(role) messages.")
                    }
                default: throw JSONInput.invalid("input.messages[\(i)].content", "must be a string or an array of content parts.")
                }
            }
        case .embedding:
            if let extra = input.keys.sorted().first(where: { $0 != "input" }) {
                throw JSONInput.invalid("input.\(extra.prefix(64))", "is not accepted for embedding jobs; input holds only input.", code: "unknown_field")
            }
            switch input["input"] {
            case nil: throw JSONInput.invalid("input.input", "is required for embedding jobs.", code: "missing_field")
            case .string(let s)? where !s.isEmpty: break
            case .array(let items)? where !items.isEmpty:
                guard items.count <= maximumEmbeddingInputs else {
                    throw HTTPError(
                        .payloadTooLarge, code: "too_many_items",
                        message: "Field 'input.input' may hold at most \(maximumEmbeddingInputs) texts, got \(items.count).")
                }
                for (i, item) in items.enumerated() where (item.stringValue ?? "").isEmpty {
                    throw JSONInput.invalid("input.input[\(i)]", "must be a non-empty string.")
                }
            default: throw JSONInput.invalid("input.input", "must be a non-empty string or array of strings.")
            }
        }
    }
}
