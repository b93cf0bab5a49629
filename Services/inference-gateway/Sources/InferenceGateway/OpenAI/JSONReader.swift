import Shared

/// Parses JSON text into `JSONValue` by hand, for request bodies on the hot path: Foundation's
/// decoder builds `JSONValue` by trying every type in turn (each miss throws), which costs
/// more than the rest of a proxied call.
///
/// Strict RFC 8259 (no trailing commas, comments, NaN, bare control characters; valid UTF-8;
/// nesting bounded). It answers nil for anything it does not accept, so the caller can let
/// `JSONDecoder` decide and describe the error: valid input gives the decoder's value, invalid
/// input the decoder's message.
///
/// ```swift
/// JSONReader.parse(Array(#"{"model":"gpt-4o","n":1}"#.utf8))  // .object(["model": .string("gpt-4o"), "n": .number(1)])
/// ```
enum JSONReader {
    static let maxDepth = 512

    static func parse(_ bytes: [UInt8]) -> JSONValue? {
        bytes.withUnsafeBufferPointer { buffer in
            var r = Cursor(bytes: buffer)
            guard let value = r.value(depth: 0) else { return nil }
            r.skipWhitespace()
            return r.i == buffer.count ? value : nil
        }
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var i = 0

        mutating func skipWhitespace() {
            while i < bytes.count {
                switch bytes[i] {
                case 0x20, 0x09, 0x0A, 0x0D: i += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) -> JSONValue? {
            guard depth < JSONReader.maxDepth else { return nil }
            skipWhitespace()
            guard i < bytes.count else { return nil }
            switch bytes[i] {
            case UInt8(ascii: "{"):
                i += 1
                var object: [String: JSONValue] = [:]
                skipWhitespace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
                while true {
                    skipWhitespace()
                    guard i < bytes.count, bytes[i] == 0x22, let key = string() else { return nil }
                    skipWhitespace()
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { return nil }
                    i += 1
                    guard let v = value(depth: depth + 1) else { return nil }
                    // A repeated key: let the decoder decide which one counts.
                    if object.updateValue(v, forKey: key) != nil { return nil }
                    skipWhitespace()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(object) }
                    return nil
                }
            case UInt8(ascii: "["):
                i += 1
                var array: [JSONValue] = []
                skipWhitespace()
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(array) }
                while true {
                    guard let v = value(depth: depth + 1) else { return nil }
                    array.append(v)
                    skipWhitespace()
                    guard i < bytes.count else { return nil }
                    if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                    if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(array) }
                    return nil
                }
            case 0x22:
                return string().map { .string($0) }
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return number()
            }
        }

        private mutating func literal(_ text: StaticString) -> Bool {
            let n = text.utf8CodeUnitCount
            guard bytes.count - i >= n else { return false }
            for k in 0..<n where bytes[i + k] != text.utf8Start[k] { return false }
            i += n
            return true
        }

        /// At an opening quote: the unescaped string, nil if malformed or not valid UTF-8.
        mutating func string() -> String? {
            i += 1
            return JSONStringDecoding.string(bytes, &i, invalidUTF8: .refuse)
        }

        /// RFC 8259 number grammar; small integers directly, the rest through `Double(_:)`.
        private mutating func number() -> JSONValue? {
            let start = i
            var negative = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            let intStart = i
            while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
            let intDigits = i - intStart
            guard intDigits > 0 else { return nil }
            if intDigits > 1, bytes[intStart] == 0x30 { return nil }  // no leading zeros
            var isInteger = true
            if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
                isInteger = false
                i += 1
                let s = i
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
                guard i > s else { return nil }
            }
            if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
                isInteger = false
                i += 1
                if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
                let s = i
                while i < bytes.count, bytes[i] >= 0x30, bytes[i] <= 0x39 { i += 1 }
                guard i > s else { return nil }
            }
            if isInteger, intDigits <= 15 {
                // Exact in a Double: no text round trip.
                var n: Int64 = 0
                for k in intStart..<i { n = n * 10 + Int64(bytes[k] - 0x30) }
                // -0 stays a negative zero, as the decoder reads it.
                return .number(negative ? (n == 0 ? -0.0 : -Double(n)) : Double(n))
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
            guard let d = Double(text), d.isFinite else { return nil }
            return .number(d)
        }
    }
}
