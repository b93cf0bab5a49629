/// A W3C Trace Context (`traceparent`), https://www.w3.org/TR/trace-context/.
///
/// A server typically continues the caller's trace and opens its own span:
///
/// ```swift
/// let trace = TraceContext(traceparent: header)?.child() ?? TraceContext.random()
/// // ... send trace.traceparentValue on outgoing calls
/// ```
///
/// Ids are held as integers; ``traceID``, ``spanID`` and ``traceparentValue`` give the
/// lowercase hex forms.
public struct TraceContext: Sendable, Hashable, CustomStringConvertible {
    /// High 64 bits of the 128-bit trace id.
    public let traceIDHigh: UInt64
    /// Low 64 bits of the 128-bit trace id.
    public let traceIDLow: UInt64
    /// The 64-bit span id: the `parent-id` field of `traceparent`. For a context parsed
    /// from a request, this is the caller's span.
    public let spanIDValue: UInt64
    /// The trace flags byte; bit 0 is "sampled". Other bits are carried unchanged.
    public let flags: UInt8

    /// The "sampled" bit of ``flags``.
    public static let sampledFlag: UInt8 = 0x01

    /// Creates a context from its parts. Returns `nil` when the trace id or span id is all zeros,
    /// which the specification forbids.
    public init?(traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, flags: UInt8) {
        guard traceIDHigh != 0 || traceIDLow != 0, spanID != 0 else { return nil }
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanIDValue = spanID
        self.flags = flags
    }

    private init(unchecked high: UInt64, _ low: UInt64, _ span: UInt64, _ flags: UInt8) {
        traceIDHigh = high
        traceIDLow = low
        spanIDValue = span
        self.flags = flags
    }

    /// Parses a `traceparent` header value; returns `nil` when it is invalid.
    ///
    /// Follows the specification's parsing rules: optional surrounding spaces and tabs are
    /// ignored; hex must be lowercase; the trace id and parent id must not be all zeros;
    /// version `ff` is invalid. Version `00` must be exactly 55 characters. A higher
    /// (future) version may be longer, in which case the character after the first 55 must
    /// be `-`; its first four fields are read as in version `00` and the rest is ignored.
    public init?(traceparent: String) {
        var text = traceparent
        guard let parsed = text.withUTF8({ Self.parse($0) }) else { return nil }
        self = parsed
    }

    private static func parse(_ raw: UnsafeBufferPointer<UInt8>) -> TraceContext? {
        var start = 0
        var end = raw.count
        while start < end, raw[start] == 0x20 || raw[start] == 0x09 { start += 1 }
        while end > start, raw[end - 1] == 0x20 || raw[end - 1] == 0x09 { end -= 1 }
        let length = end - start
        guard length >= 55 else { return nil }

        guard let version = hexValue(raw, start, count: 2), version != 0xFF else { return nil }
        if version == 0 {
            guard length == 55 else { return nil }
        } else if length > 55 {
            guard raw[start + 55] == UInt8(ascii: "-") else { return nil }
        }
        guard raw[start + 2] == UInt8(ascii: "-"),
              raw[start + 35] == UInt8(ascii: "-"),
              raw[start + 52] == UInt8(ascii: "-"),
              let high = hexValue(raw, start + 3, count: 16),
              let low = hexValue(raw, start + 19, count: 16),
              let span = hexValue(raw, start + 36, count: 16),
              let flags = hexValue(raw, start + 53, count: 2)
        else { return nil }
        return TraceContext(traceIDHigh: high, traceIDLow: low, spanID: span, flags: UInt8(flags))
    }

    /// Reads `count` (at most 16) lowercase hex digits; `nil` on any other character.
    private static func hexValue(_ raw: UnsafeBufferPointer<UInt8>, _ offset: Int, count: Int) -> UInt64? {
        var value: UInt64 = 0
        for index in offset..<(offset + count) {
            let byte = raw[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }

    /// A new trace with random ids from `SystemRandomNumberGenerator`.
    public static func random(sampled: Bool = true) -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return random(sampled: sampled, using: &generator)
    }

    /// A new trace with random ids from `generator`.
    public static func random<G: RandomNumberGenerator>(sampled: Bool = true, using generator: inout G) -> TraceContext {
        var high: UInt64 = 0
        var low: UInt64 = 0
        while high == 0 && low == 0 {
            high = generator.next()
            low = generator.next()
        }
        return TraceContext(unchecked: high, low, nonZero(using: &generator), sampled ? sampledFlag : 0)
    }

    /// A context for a new span in the same trace: same trace id and flags, new random span id.
    public func child() -> TraceContext {
        var generator = SystemRandomNumberGenerator()
        return child(using: &generator)
    }

    /// Like ``child()``, drawing the span id from `generator`.
    public func child<G: RandomNumberGenerator>(using generator: inout G) -> TraceContext {
        TraceContext(unchecked: traceIDHigh, traceIDLow, Self.nonZero(using: &generator), flags)
    }

    private static func nonZero<G: RandomNumberGenerator>(using generator: inout G) -> UInt64 {
        var value: UInt64 = 0
        while value == 0 { value = generator.next() }
        return value
    }

    /// Whether the sampled flag is set.
    public var isSampled: Bool { flags & Self.sampledFlag != 0 }

    /// The trace id as 32 lowercase hex digits.
    public var traceID: String { Self.hex([(traceIDHigh, 16), (traceIDLow, 16)]) }

    /// The span id as 16 lowercase hex digits.
    public var spanID: String { Self.hex([(spanIDValue, 16)]) }

    /// The `traceparent` header value for this context, always version `00`:
    /// `00-<trace-id>-<span-id>-<flags>`.
    public var traceparentValue: String {
        Self.hex([(0, 2), (traceIDHigh, 16), (traceIDLow, 16), (spanIDValue, 16), (UInt64(flags), 2)],
                 separators: [2, 35, 52])
    }

    /// Same as ``traceparentValue``.
    public var description: String { traceparentValue }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Writes each value as fixed-width hex, inserting `-` at the given output offsets.
    private static func hex(_ parts: [(UInt64, Int)], separators: [Int] = []) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(56)
        for (value, width) in parts {
            if separators.contains(bytes.count) { bytes.append(UInt8(ascii: "-")) }
            var shift = (width - 1) * 4
            while shift >= 0 {
                bytes.append(digits[Int((value >> UInt64(shift)) & 0xF)])
                shift -= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
