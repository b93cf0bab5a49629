/// JSON string decoding (RFC 8259: escapes, `\u` with surrogate pairs, no raw control
/// characters) shared by the request reader and the upstream chunk scanner.
enum JSONStringDecoding {
    /// What to do with bytes that are not UTF-8.
    enum InvalidUTF8 {
        /// The string is refused (requests: the client sent something a JSON parser must reject).
        case refuse
        /// Replaced with U+FFFD (upstream chunks: keep streaming what the provider sent).
        case replace
    }

    /// `i` is just past an opening quote. Returns the unescaped string and moves `i` past the
    /// closing quote; nil when the string is malformed (or not UTF-8 under `.refuse`).
    static func string(_ bytes: UnsafeBufferPointer<UInt8>, _ i: inout Int, invalidUTF8: InvalidUTF8) -> String? {
        let start = i
        var ascii = true
        // Fast path: no escapes, one copy into the String.
        while i < bytes.count {
            let b = bytes[i]
            if b == 0x22 {
                let raw = UnsafeBufferPointer(rebasing: bytes[start..<i])
                i += 1
                return make(raw, ascii: ascii, invalidUTF8)
            }
            if b == 0x5C { break }
            if b < 0x20 { return nil }
            if b >= 0x80 { ascii = false }
            i += 1
        }
        var out: [UInt8] = []
        out.reserveCapacity(i - start + 16)
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let b = bytes[i]
            i += 1
            if b == 0x22 { return out.withUnsafeBufferPointer { make($0, ascii: false, invalidUTF8) } }
            if b < 0x20 { return nil }
            guard b == 0x5C else { out.append(b); continue }
            guard i < bytes.count else { return nil }
            let e = bytes[i]
            i += 1
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(bytes, &i) else { return nil }
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard bytes.count - i >= 2, bytes[i] == 0x5C, bytes[i + 1] == UInt8(ascii: "u") else { return nil }
                    i += 2
                    guard let low = hex4(bytes, &i), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(scalar) {
                    return nil
                }
                guard let u = Unicode.Scalar(scalar), let encoded = UTF8.encode(u) else { return nil }
                out.append(contentsOf: encoded)
            default: return nil
            }
        }
        return nil
    }

    private static func make(_ raw: UnsafeBufferPointer<UInt8>, ascii: Bool, _ invalidUTF8: InvalidUTF8) -> String? {
        if ascii || invalidUTF8 == .replace { return String(decoding: raw, as: UTF8.self) }
        return String(validating: raw, as: UTF8.self)
    }

    /// Four hex digits at `i` (after `\u`).
    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ i: inout Int) -> UInt32? {
        guard bytes.count - i >= 4 else { return nil }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[i]
            i += 1
            switch c {
            case 0x30...0x39: v = v << 4 | UInt32(c - 0x30)
            case 0x41...0x46: v = v << 4 | UInt32(c - 0x41 + 10)
            case 0x61...0x66: v = v << 4 | UInt32(c - 0x61 + 10)
            default: return nil
            }
        }
        return v
    }
}
