/// An incremental UTF-8 validator (RFC 3629, the "well-formed" table of Unicode §3.9).
///
/// Fed chunk by chunk, it accepts a code point split across chunks and rejects a
/// byte sequence as soon as no continuation could make it valid: overlong forms,
/// surrogates (U+D800-U+DFFF), code points above U+10FFFF, stray continuation bytes.
/// Used by ``WebSocketMessageAssembler`` to fail fast on fragmented text messages.
struct WebSocketUTF8Validator: Sendable {
    /// Continuation bytes still expected for the current code point.
    private var remaining: UInt8 = 0
    /// The allowed range of the next continuation byte.
    private var lower: UInt8 = 0x80
    private var upper: UInt8 = 0xBF

    init() {}

    /// Whether the bytes fed so far end on a code point boundary.
    var isComplete: Bool { remaining == 0 }

    /// Feeds more bytes; returns false once the input can no longer be valid UTF-8.
    mutating func feed(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { feed($0) }
    }

    /// Feeds more bytes; returns false once the input can no longer be valid UTF-8.
    mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var i = 0
        while i < count {
            if remaining == 0 {
                // ASCII fast path, eight bytes at a time.
                while i &+ 8 <= count,
                    raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0
                {
                    i &+= 8
                }
                if i >= count { break }
                let b = base[i]
                i &+= 1
                switch b {
                case 0x00...0x7F:
                    continue
                case 0xC2...0xDF:
                    remaining = 1
                case 0xE0:
                    remaining = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF:
                    remaining = 2
                case 0xED:
                    remaining = 2; upper = 0x9F
                case 0xF0:
                    remaining = 3; lower = 0x90
                case 0xF1...0xF3:
                    remaining = 3
                case 0xF4:
                    remaining = 3; upper = 0x8F
                default:
                    return false
                }
            } else {
                let b = base[i]
                i &+= 1
                guard b >= lower, b <= upper else { return false }
                lower = 0x80
                upper = 0xBF
                remaining &-= 1
            }
        }
        return true
    }
}
