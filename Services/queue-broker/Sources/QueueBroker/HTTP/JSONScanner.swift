import BulkheadHTTP

/// A strict, allocation-light JSON reader for the hot request bodies (send and batch send).
///
/// It validates the whole document (RFC 8259 grammar, depth-limited) but does not build a
/// tree: a message body is kept as the exact byte range the client sent, so the broker
/// stores and returns it without decoding and re-encoding it.
struct JSONScanner {
    let bytes: [UInt8]
    var index = 0
    static let maxDepth = 128

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Bad JSON: 400 `invalid_json`.
    static func invalid(_ why: String) -> HTTPError {
        HTTPError(.badRequest, code: "invalid_json", message: "Request body is not valid JSON: \(why).")
    }

    var atEnd: Bool { index >= bytes.count }

    mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func expect(_ c: UInt8) throws {
        skipWhitespace()
        guard peek() == c else { throw Self.invalid("expected '\(Character(Unicode.Scalar(c)))' at byte \(index)") }
        index += 1
    }

    /// Checks the document is one value followed only by whitespace.
    mutating func finish() throws {
        skipWhitespace()
        guard atEnd else { throw Self.invalid("unexpected data after the value at byte \(index)") }
    }

    /// Skips one value, validating it; returns its byte range.
    mutating func value(depth: Int = 0) throws -> Range<Int> {
        skipWhitespace()
        let start = index
        guard let c = peek() else { throw Self.invalid("unexpected end") }
        switch c {
        case UInt8(ascii: "{"):
            guard depth < Self.maxDepth else { throw Self.invalid("nested too deeply") }
            try object { s, _ in _ = try s.value(depth: depth + 1) }
        case UInt8(ascii: "["):
            guard depth < Self.maxDepth else { throw Self.invalid("nested too deeply") }
            try array { s in _ = try s.value(depth: depth + 1) }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: try number()
        }
        return start..<index
    }

    /// Iterates an object's members; `member` must consume the value.
    mutating func object(_ member: (inout JSONScanner, String) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            let key = try string()
            try expect(UInt8(ascii: ":"))
            try member(&self, key)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default: throw Self.invalid("expected ',' or '}' at byte \(index)")
            }
        }
    }

    /// Iterates an array's elements; `element` must consume the value.
    mutating func array(_ element: (inout JSONScanner) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return
        }
        while true {
            try element(&self)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return
            default: throw Self.invalid("expected ',' or ']' at byte \(index)")
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let n = word.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw Self.invalid("unexpected end") }
        let w = UnsafeBufferPointer(start: word.utf8Start, count: n)
        for i in 0..<n where bytes[index + i] != w[i] { throw Self.invalid("bad literal at byte \(index)") }
        index += n
    }

    private mutating func number() throws {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), isDigit(first) else { throw Self.invalid("unexpected character at byte \(start)") }
        index += 1
        if first != UInt8(ascii: "0") { while let d = peek(), isDigit(d) { index += 1 } }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let d = peek(), isDigit(d) else { throw Self.invalid("bad number at byte \(start)") }
            while let d = peek(), isDigit(d) { index += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let d = peek(), isDigit(d) else { throw Self.invalid("bad number at byte \(start)") }
            while let d = peek(), isDigit(d) { index += 1 }
        }
    }

    private func isDigit(_ c: UInt8) -> Bool { c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") }

    /// Skips a string, validating escapes, control characters and UTF-8.
    private mutating func skipString() throws {
        var unused: [UInt8] = []
        try scanString(into: &unused, decode: false)
    }

    /// Reads a string value and decodes it.
    mutating func string() throws -> String {
        var out: [UInt8] = []
        try scanString(into: &out, decode: true)
        return String(decoding: out, as: UTF8.self)
    }

    /// Scans a string starting at its quote; with `decode`, appends its decoded UTF-8 to `out`.
    private mutating func scanString(into out: inout [UInt8], decode: Bool) throws {
        skipWhitespace()
        guard peek() == UInt8(ascii: "\"") else { throw Self.invalid("expected a string at byte \(index)") }
        let start = index
        index += 1
        var plainFrom = index
        while true {
            guard index < bytes.count else { throw Self.invalid("unterminated string") }
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                if decode { out += bytes[plainFrom..<index] }
                try validateUTF8(start + 1..<index)
                index += 1
                return
            }
            if c < 0x20 { throw Self.invalid("control character in string at byte \(index)") }
            if c == UInt8(ascii: "\\") {
                if decode { out += bytes[plainFrom..<index] }
                index += 1
                guard let e = peek() else { throw Self.invalid("unterminated string") }
                index += 1
                var scalar: UInt32?
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalar = UInt32(e)
                case UInt8(ascii: "b"): scalar = 8
                case UInt8(ascii: "f"): scalar = 12
                case UInt8(ascii: "n"): scalar = 10
                case UInt8(ascii: "r"): scalar = 13
                case UInt8(ascii: "t"): scalar = 9
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xD800..<0xDC00).contains(v) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw Self.invalid("unpaired surrogate at byte \(index)")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw Self.invalid("unpaired surrogate at byte \(index)") }
                        v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00..<0xE000).contains(v) {
                        throw Self.invalid("unpaired surrogate at byte \(index)")
                    }
                    scalar = v
                default: throw Self.invalid("bad escape at byte \(index - 1)")
                }
                if decode, let s = scalar.flatMap(Unicode.Scalar.init) { out += Array(String(Character(s)).utf8) }
                plainFrom = index
                continue
            }
            index += 1
        }
    }

    private mutating func hex4() throws -> UInt32 {
        guard index + 4 <= bytes.count else { throw Self.invalid("bad \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw Self.invalid("bad \\u escape at byte \(index)")
            }
            v = v << 4 | d
            index += 1
        }
        return v
    }

    private func validateUTF8(_ range: Range<Int>) throws {
        // Fast path: ASCII only (the common case).
        var i = range.lowerBound
        while i < range.upperBound, bytes[i] < 0x80 { i += 1 }
        guard i < range.upperBound else { return }
        var it = bytes[i..<range.upperBound].makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue: continue
            case .emptyInput: break loop
            case .error: throw Self.invalid("string is not valid UTF-8")
            }
        }
    }
}
