import Shared

/// Builds small JSON texts by appending, for the hot streaming path (no encoder, no dictionaries).
struct JSONWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    /// Continues `buffer` (left empty meanwhile, so appends do not copy it); give it back with `buffer = w.bytes`.
    init(taking buffer: inout [UInt8]) {
        bytes = buffer
        buffer = []
    }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }

    mutating func int<I: BinaryInteger>(_ v: I) { bytes.append(contentsOf: String(v).utf8) }

    /// A JSON string literal with the escapes RFC 8259 requires.
    mutating func string(_ s: String) {
        bytes.append(0x22)
        // Most text (tokens, ids, model names) needs no escape: append it in one copy.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            bytes.append(contentsOf: s.utf8)
            bytes.append(0x22)
            return
        }
        for b in s.utf8 {
            switch b {
            case 0x22: bytes.append(0x5C); bytes.append(0x22)
            case 0x5C: bytes.append(0x5C); bytes.append(0x5C)
            case 0x0A: bytes.append(0x5C); bytes.append(0x6E)
            case 0x0D: bytes.append(0x5C); bytes.append(0x72)
            case 0x09: bytes.append(0x5C); bytes.append(0x74)
            case 0..<0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]])
            default: bytes.append(b)
            }
        }
        bytes.append(0x22)
    }

    /// Any JSON value, as `JSONEncoder` would write it (integral numbers below 9e15 without a
    /// fraction) minus the encoder's cost; object members in dictionary order.
    mutating func value(_ v: JSONValue) {
        switch v {
        case .null: raw("null")
        case .bool(let b): raw(b ? "true" : "false")
        case .number(let n):
            if n.rounded() == n, abs(n) < 9e15 { int(Int64(n)) } else { raw(n.description) }
        case .string(let s): string(s)
        case .array(let a):
            bytes.append(UInt8(ascii: "["))
            for (k, e) in a.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                value(e)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let o):
            object(o)
        }
    }

    mutating func object(_ o: [String: JSONValue]) {
        bytes.append(UInt8(ascii: "{"))
        var first = true
        for (k, e) in o {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            string(k)
            bytes.append(UInt8(ascii: ":"))
            value(e)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func optionalString(_ s: String?) {
        if let s { string(s) } else { raw("null") }
    }
}
