/// Builds one JSON object as UTF-8 bytes, for log lines.
///
/// Only what ``Logger`` needs: a flat object of string keys to strings, numbers and booleans.
struct JSONLineWriter {
    private(set) var bytes: [UInt8]
    private var needsComma = false

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// Closes the object and appends the newline.
    mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        bytes.append(UInt8(ascii: "\n"))
        return bytes
    }

    /// Writes `"key":` (with a leading comma when needed).
    mutating func key(_ key: String) {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
        needsComma = true
        Self.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Writes `"key":"<escaped string>"`.
    mutating func field(_ key: String, _ value: String) {
        self.key(key)
        Self.appendQuoted(value, to: &bytes)
    }

    /// Writes `"key":` followed by the JSON form of `value`.
    mutating func field(_ key: String, _ value: LogValue) {
        self.key(key)
        switch value {
        case .string(let string):
            Self.appendQuoted(string, to: &bytes)
        case .int(let int):
            bytes.append(contentsOf: String(int).utf8)
        case .double(let double):
            if double.isNaN {
                Self.appendQuoted("NaN", to: &bytes)
            } else if double.isInfinite {
                Self.appendQuoted(double < 0 ? "-Infinity" : "Infinity", to: &bytes)
            } else {
                bytes.append(contentsOf: double.description.utf8)
            }
        case .bool(let bool):
            bytes.append(contentsOf: (bool ? "true" : "false").utf8)
        }
    }

    /// Writes a timestamp field without building an intermediate string.
    mutating func field(_ key: String, _ time: WallClockTime) {
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        time.appendRFC3339(to: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends `string` as a JSON string literal (RFC 8259): quotes, backslash, control
    /// characters and DEL are escaped; every other character is copied as UTF-8.
    static func appendQuoted(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""):
                bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "\\"))
            case 0x0A:
                bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D:
                bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09:
                bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0x08:
                bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "b"))
            case 0x0C:
                bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "f"))
            case 0x00..<0x20, 0x7F:
                bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "u"))
                bytes.append(UInt8(ascii: "0")); bytes.append(UInt8(ascii: "0"))
                bytes.append(hexDigits[Int(byte >> 4)])
                bytes.append(hexDigits[Int(byte & 0x0F)])
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
