/// Serializes WebSocket frames (RFC 6455 §5.2).
///
/// Servers send unmasked frames (pass no masking key). Clients must mask every frame
/// with a fresh key (``randomMaskingKey()``); a fixed key is useful in tests.
/// Lengths are always minimally encoded (7, 16 or 64 bits).
public enum WebSocketFrameEncoder {
    /// The four bytes XORed over a client frame's payload.
    public typealias MaskingKey = (UInt8, UInt8, UInt8, UInt8)

    /// The largest close reason, in UTF-8 bytes, that fits a control frame (125 - 2).
    public static let maxCloseReasonBytes = 123

    /// The size of a frame header for this payload length.
    public static func headerSize(payloadLength: Int, masked: Bool) -> Int {
        let base = payloadLength <= 125 ? 2 : (payloadLength <= 0xFFFF ? 4 : 10)
        return masked ? base + 4 : base
    }

    /// Encodes one frame with its payload.
    /// - Parameters:
    ///   - opcode: the frame's opcode.
    ///   - payload: the unmasked application data. Control frames must keep it within 125 bytes.
    ///   - fin: false for every fragment of a message but the last.
    ///   - maskingKey: nil for server frames; a key for client frames.
    public static func encode(
        opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true, maskingKey: MaskingKey? = nil
    ) -> [UInt8] {
        encode(firstByte: (fin ? 0x80 : 0) | opcode.rawValue, payload: payload, maskingKey: maskingKey)
    }

    /// Encodes a frame value, including its reserved bits (useful to build invalid frames in tests).
    public static func encode(_ frame: WebSocketFrame, maskingKey: MaskingKey? = nil) -> [UInt8] {
        var b0 = frame.opcode.rawValue
        if frame.fin { b0 |= 0x80 }
        if frame.rsv1 { b0 |= 0x40 }
        if frame.rsv2 { b0 |= 0x20 }
        if frame.rsv3 { b0 |= 0x10 }
        return encode(firstByte: b0, payload: frame.payload, maskingKey: maskingKey)
    }

    /// Encodes only the header of a frame, so a large payload can be written after it
    /// without being copied. The payload must then be sent as is (unmasked, so this is
    /// for server frames) or already masked by the caller.
    public static func header(
        opcode: WebSocketOpcode, payloadLength: Int, fin: Bool = true, maskingKey: MaskingKey? = nil
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(headerSize(payloadLength: payloadLength, masked: maskingKey != nil))
        appendHeader(to: &out, firstByte: (fin ? 0x80 : 0) | opcode.rawValue, payloadLength: payloadLength, maskingKey: maskingKey)
        return out
    }

    /// The payload of a close frame: empty when `code` is nil, else the code in network
    /// order followed by `reason` cut to 123 UTF-8 bytes on a character boundary.
    public static func closePayload(code: WebSocketCloseCode?, reason: String = "") -> [UInt8] {
        guard let code else { return [] }
        var out: [UInt8] = [UInt8(code.rawValue >> 8), UInt8(code.rawValue & 0xFF)]
        var utf8 = Array(reason.utf8)
        if utf8.count > maxCloseReasonBytes {
            var end = maxCloseReasonBytes
            // Back off to the start of a scalar (continuation bytes are 0b10xxxxxx).
            while end > 0 && utf8[end] & 0xC0 == 0x80 { end -= 1 }
            utf8.removeSubrange(end...)
        }
        out.append(contentsOf: utf8)
        return out
    }

    /// A complete close frame. With a nil code the frame has no payload and `reason` is ignored.
    public static func closeFrame(
        code: WebSocketCloseCode?, reason: String = "", maskingKey: MaskingKey? = nil
    ) -> [UInt8] {
        encode(opcode: .close, payload: closePayload(code: code, reason: reason), maskingKey: maskingKey)
    }

    /// Splits a message into frames of at most `maxFragmentSize` payload bytes: the first
    /// carries `opcode`, the rest are continuations, only the last has FIN. An empty
    /// payload gives one empty frame. Text may be split inside a UTF-8 sequence; the
    /// receiver validates the joined message.
    public static func fragmentFrames(opcode: WebSocketOpcode, payload: [UInt8], maxFragmentSize: Int) -> [WebSocketFrame] {
        let size = max(1, maxFragmentSize)
        guard payload.count > size else { return [WebSocketFrame(fin: true, opcode: opcode, payload: payload)] }
        var frames: [WebSocketFrame] = []
        frames.reserveCapacity((payload.count + size - 1) / size)
        var offset = 0
        while offset < payload.count {
            let end = min(offset + size, payload.count)
            frames.append(
                WebSocketFrame(
                    fin: end == payload.count, opcode: offset == 0 ? opcode : .continuation,
                    payload: Array(payload[offset..<end])))
            offset = end
        }
        return frames
    }

    /// Splits a message as ``fragmentFrames(opcode:payload:maxFragmentSize:)`` does and
    /// encodes each fragment. With a masking key, every fragment uses that same key
    /// (fine for tests; real clients should encode each frame with a fresh key).
    public static func fragments(
        opcode: WebSocketOpcode, payload: [UInt8], maxFragmentSize: Int, maskingKey: MaskingKey? = nil
    ) -> [[UInt8]] {
        fragmentFrames(opcode: opcode, payload: payload, maxFragmentSize: maxFragmentSize).map {
            encode($0, maskingKey: maskingKey)
        }
    }

    /// A masking key from the system's secure random generator.
    public static func randomMaskingKey() -> MaskingKey {
        var rng = SystemRandomNumberGenerator()
        let n = rng.next() as UInt32
        return (UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16),
                UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n))
    }

    // MARK: - Internals

    private static func encode(firstByte: UInt8, payload: [UInt8], maskingKey: MaskingKey?) -> [UInt8] {
        let headerLength = headerSize(payloadLength: payload.count, masked: maskingKey != nil)
        var out: [UInt8] = []
        out.reserveCapacity(headerLength + payload.count)
        appendHeader(to: &out, firstByte: firstByte, payloadLength: payload.count, maskingKey: maskingKey)
        guard let key = maskingKey, !payload.isEmpty else {
            out.append(contentsOf: payload)
            return out
        }
        out.append(contentsOf: payload)
        out.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            let start = base + headerLength
            WebSocketMasking.apply(key: key, source: UnsafeRawPointer(start), destination: start, count: payload.count)
        }
        return out
    }

    private static func appendHeader(to out: inout [UInt8], firstByte: UInt8, payloadLength: Int, maskingKey: MaskingKey?) {
        let maskBit: UInt8 = maskingKey == nil ? 0 : 0x80
        out.append(firstByte)
        let length = max(0, payloadLength)
        if length <= 125 {
            out.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            out.append(maskBit | 126)
            out.append(UInt8(truncatingIfNeeded: length >> 8))
            out.append(UInt8(truncatingIfNeeded: length))
        } else {
            out.append(maskBit | 127)
            let n = UInt64(length)
            for shift in stride(from: 56, through: 0, by: -8) {
                out.append(UInt8(truncatingIfNeeded: n >> UInt64(shift)))
            }
        }
        if let key = maskingKey {
            out.append(key.0)
            out.append(key.1)
            out.append(key.2)
            out.append(key.3)
        }
    }
}
