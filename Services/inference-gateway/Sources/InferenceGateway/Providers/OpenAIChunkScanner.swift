import Shared

/// Reads the few fields the gateway needs from one OpenAI `chat.completion.chunk` without a
/// `JSONDecoder`: the first choice's `delta.content`, `delta.tool_calls` (as raw JSON text) and
/// `finish_reason`, and `usage`. Everything else is skipped byte by byte, never materialised.
///
/// The streaming hot path decodes one chunk per token; Foundation's decoder costs microseconds
/// and several allocations per chunk, this scan a few hundred nanoseconds and only the content
/// string. It answers nil whenever the chunk is not the plain, common shape (an `error` member,
/// several choices, a non-integer token count, anything malformed): the caller then falls back
/// to the decoder, so unusual input keeps exactly the decoder's behaviour.
///
/// ```swift
/// let bytes = Array(#"{"choices":[{"delta":{"content":"Hi"},"finish_reason":null}]}"#.utf8)
/// let chunk = bytes.withUnsafeBufferPointer { OpenAIChunkScanner.scan($0) }
/// chunk?.content  // "Hi"
/// ```
enum OpenAIChunkScanner {
    /// The fields of one chunk, as the decoder-based path would have read them.
    struct Chunk: Equatable {
        /// The chunk had a first choice (`choices` non-empty).
        var hasChoice = false
        var content: String?
        /// The raw JSON text of a non-null `delta.tool_calls` (decoded only when present: rare).
        var toolCalls: [UInt8]?
        var finishReason: String?
        var usage: TokenUsage?
    }

    /// Scans `bytes` (one SSE `data` payload, or with `choiceMember: "message"` a whole
    /// `chat.completion`). Nil: not the common shape, use the decoder.
    static func scan(_ bytes: UnsafeBufferPointer<UInt8>, choiceMember: StaticString = "delta") -> Chunk? {
        var s = Cursor(bytes: bytes, choiceMember: choiceMember)
        var chunk = Chunk()
        guard s.consume(UInt8(ascii: "{")) else { return nil }
        if !s.consume(UInt8(ascii: "}")) {
            repeat {
                guard let key = s.keyRange() else { return nil }
                if s.keyEquals(key, "choices") {
                    guard s.choices(into: &chunk) else { return nil }
                } else if s.keyEquals(key, "usage") {
                    if s.consumeNull() { continue }
                    guard let usage = s.usage() else { return nil }
                    chunk.usage = usage
                } else if s.keyEquals(key, "error") {
                    // Only a literal null is harmless; any error body goes to the decoder path.
                    guard s.consumeNull() else { return nil }
                } else {
                    guard s.skipValue(depth: 0) else { return nil }
                }
            } while s.consume(UInt8(ascii: ","))
            guard s.consume(UInt8(ascii: "}")) else { return nil }
        }
        s.skipWhitespace()
        return s.atEnd ? chunk : nil
    }

    /// A position in the chunk's bytes, with the small JSON grammar the scan needs.
    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        /// The member of a choice holding `content`: `delta` in chunks, `message` in completions.
        let choiceMember: StaticString
        var i = 0
        /// Deeper nesting than this in skipped values is refused (no unbounded recursion).
        static let maxDepth = 64

        var atEnd: Bool { i >= bytes.count }

        mutating func skipWhitespace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        /// Skips whitespace, then consumes `b` if it comes next.
        mutating func consume(_ b: UInt8) -> Bool {
            skipWhitespace()
            guard i < bytes.count, bytes[i] == b else { return false }
            i += 1
            return true
        }

        mutating func consumeLiteral(_ text: StaticString) -> Bool {
            skipWhitespace()
            let n = text.utf8CodeUnitCount
            guard bytes.count - i >= n else { return false }
            let p = text.utf8Start
            for k in 0..<n where bytes[i + k] != p[k] { return false }
            i += n
            return true
        }

        mutating func consumeNull() -> Bool { consumeLiteral("null") }

        /// An object key and its colon; returns the key's raw (still escaped) byte range.
        mutating func keyRange() -> Range<Int>? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = i
            guard skipStringBody() else { return nil }
            let range = start..<(i - 1)
            guard consume(UInt8(ascii: ":")) else { return nil }
            return range
        }

        func keyEquals(_ range: Range<Int>, _ name: StaticString) -> Bool {
            guard range.count == name.utf8CodeUnitCount else { return false }
            let p = name.utf8Start
            for k in 0..<range.count where bytes[range.lowerBound + k] != p[k] { return false }
            return true
        }

        /// After an opening quote: moves past the closing one. Rejects raw control characters.
        mutating func skipStringBody() -> Bool {
            while i < bytes.count {
                let b = bytes[i]
                i += 1
                if b == 0x22 { return true }
                if b == 0x5C {
                    guard i < bytes.count else { return false }
                    i += 1
                } else if b < 0x20 {
                    return false
                }
            }
            return false
        }

        /// A JSON string value (after whitespace), unescaped. Bytes that are not UTF-8 become
        /// U+FFFD rather than failing the chunk (what the provider sent keeps streaming).
        mutating func string() -> String? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            return JSONStringDecoding.string(bytes, &i, invalidUTF8: .replace)
        }

        /// A string or null (what `String?` decodes); nil result = not one of those.
        mutating func optionalString() -> String?? {
            if consumeNull() { return .some(nil) }
            guard let s = string() else { return nil }
            return .some(s)
        }

        /// A non-negative integer without fraction or exponent (what `Int` decodes exactly).
        mutating func int() -> Int? {
            skipWhitespace()
            var n = 0
            let start = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 {
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(bytes[i] - 0x30))
                if o1 || o2 { return nil }
                n = a
                i += 1
            }
            guard i > start else { return nil }
            // "1.0", "1e3": leave those to the decoder.
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                return nil
            }
            return n
        }

        /// Skips any JSON value, checking its structure.
        mutating func skipValue(depth: Int) -> Bool {
            guard depth < Self.maxDepth else { return false }
            skipWhitespace()
            guard i < bytes.count else { return false }
            switch bytes[i] {
            case 0x22:
                i += 1
                return skipStringBody()
            case UInt8(ascii: "{"):
                i += 1
                if consume(UInt8(ascii: "}")) { return true }
                repeat {
                    guard keyRange() != nil, skipValue(depth: depth + 1) else { return false }
                } while consume(UInt8(ascii: ","))
                return consume(UInt8(ascii: "}"))
            case UInt8(ascii: "["):
                i += 1
                if consume(UInt8(ascii: "]")) { return true }
                repeat {
                    guard skipValue(depth: depth + 1) else { return false }
                } while consume(UInt8(ascii: ","))
                return consume(UInt8(ascii: "]"))
            case UInt8(ascii: "t"): return consumeLiteral("true")
            case UInt8(ascii: "f"): return consumeLiteral("false")
            case UInt8(ascii: "n"): return consumeLiteral("null")
            default: return skipNumber()
            }
        }

        private mutating func skipNumber() -> Bool {
            let start = i
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { i += 1 }
            var digits = 0
            while i < bytes.count {
                switch bytes[i] {
                case 0x30...0x39: digits += 1
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): break
                default: return digits > 0 && i > start
                }
                i += 1
            }
            return digits > 0
        }

        /// `"choices": [...]`: reads the only choice; nil-equivalent (false) for two or more.
        mutating func choices(into chunk: inout Chunk) -> Bool {
            if consumeNull() { return true }
            guard consume(UInt8(ascii: "[")) else { return false }
            if consume(UInt8(ascii: "]")) { return true }
            guard consume(UInt8(ascii: "{")) else { return false }
            chunk.hasChoice = true
            if !consume(UInt8(ascii: "}")) {
                repeat {
                    guard let key = keyRange() else { return false }
                    if keyEquals(key, choiceMember) {
                        guard delta(into: &chunk) else { return false }
                    } else if keyEquals(key, "finish_reason") {
                        guard let f = optionalString() else { return false }
                        chunk.finishReason = f
                    } else {
                        guard skipValue(depth: 2) else { return false }
                    }
                } while consume(UInt8(ascii: ","))
                guard consume(UInt8(ascii: "}")) else { return false }
            }
            // Several choices (n > 1 is refused for streams): not the shape this scan serves.
            return consume(UInt8(ascii: "]"))
        }

        mutating func delta(into chunk: inout Chunk) -> Bool {
            if consumeNull() { return true }
            guard consume(UInt8(ascii: "{")) else { return false }
            if consume(UInt8(ascii: "}")) { return true }
            repeat {
                guard let key = keyRange() else { return false }
                if keyEquals(key, "content") {
                    guard let c = optionalString() else { return false }
                    chunk.content = c
                } else if keyEquals(key, "tool_calls") {
                    skipWhitespace()
                    let start = i
                    guard skipValue(depth: 3) else { return false }
                    let raw = Array(UnsafeBufferPointer(rebasing: bytes[start..<i]))
                    chunk.toolCalls = raw.elementsEqual("null".utf8) ? nil : raw
                } else {
                    guard skipValue(depth: 3) else { return false }
                }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}"))
        }

        /// `usage` in OpenAI's shape; nil when a required count is missing or not an integer.
        mutating func usage() -> TokenUsage? {
            guard consume(UInt8(ascii: "{")) else { return nil }
            var prompt: Int?
            var completion: Int?
            var cached: Int?
            if !consume(UInt8(ascii: "}")) {
                repeat {
                    guard let key = keyRange() else { return nil }
                    if keyEquals(key, "prompt_tokens") {
                        guard let v = int() else { return nil }
                        prompt = v
                    } else if keyEquals(key, "completion_tokens") {
                        guard let v = int() else { return nil }
                        completion = v
                    } else if keyEquals(key, "prompt_tokens_details") {
                        if consumeNull() { continue }
                        guard consume(UInt8(ascii: "{")) else { return nil }
                        if consume(UInt8(ascii: "}")) { continue }
                        repeat {
                            guard let k = keyRange() else { return nil }
                            if keyEquals(k, "cached_tokens") {
                                if consumeNull() { cached = nil; continue }
                                guard let v = int() else { return nil }
                                cached = v
                            } else {
                                guard skipValue(depth: 3) else { return nil }
                            }
                        } while consume(UInt8(ascii: ","))
                        guard consume(UInt8(ascii: "}")) else { return nil }
                    } else {
                        guard skipValue(depth: 2) else { return nil }
                    }
                } while consume(UInt8(ascii: ","))
                guard consume(UInt8(ascii: "}")) else { return nil }
            }
            guard let prompt, let completion else { return nil }
            return TokenUsage(promptTokens: prompt, completionTokens: completion, cachedPromptTokens: cached ?? 0)
        }
    }
}
