/// Incremental parser turning a WebSocket byte stream into frames (RFC 6455 §5.2).
///
/// Feed it whatever the socket delivered with ``append(_:)``
/// and call ``next()`` until it returns nil (more bytes needed). Bytes may arrive split
/// at any point; the frames come out the same.
///
/// Checks, in wire order, each as soon as the bytes that show it have arrived:
/// - any RSV bit set (no extension is negotiated): 1002;
/// - a reserved opcode (0x3-0x7, 0xB-0xF): 1002;
/// - a control frame without FIN: 1002;
/// - an unmasked frame when `expectMasked` (server side), or a masked frame when
///   not (client side, RFC 6455 §5.1): 1002;
/// - a 64-bit length with its most significant bit set: 1002;
/// - a control frame with more than 125 bytes of payload: 1002;
/// - a payload longer than `maxFrameSize`: 1009, from the header alone, before any
///   payload is buffered.
///
/// Lengths need not be minimally encoded. Payloads come out unmasked.
/// After an error the parser stays failed: every later ``next()`` throws the same error.
public struct WebSocketFrameParser: Sendable {
    /// The largest payload accepted in one frame, in bytes.
    public let maxFrameSize: Int
    /// Whether frames must be masked (true on a server reading a client) or must not be
    /// (false on a client reading a server).
    public let expectMasked: Bool

    private var buffer: [UInt8] = []
    /// Start of the unread bytes in `buffer`.
    private var readIndex = 0
    private var failure: WebSocketProtocolError?

    /// Capacity kept across frames; a larger buffer is released once drained.
    private static let retainedCapacity = 64 * 1024

    /// Creates a parser.
    /// - Parameters:
    ///   - maxFrameSize: the largest payload of a single frame; larger ones fail with 1009.
    ///   - expectMasked: true when parsing frames from a client (server side).
    public init(maxFrameSize: Int, expectMasked: Bool) {
        self.maxFrameSize = max(0, maxFrameSize)
        self.expectMasked = expectMasked
    }

    /// Bytes received and not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        compact()
        bytes.withMemoryRebound(to: UInt8.self) { buffer.append(contentsOf: $0) }
    }

    /// Adds bytes read from the connection.
    public mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        compact()
        buffer.append(contentsOf: bytes)
    }

    /// Returns the next complete frame, or nil when more bytes are needed.
    /// - Throws: ``WebSocketProtocolError`` with close code 1002 or 1009 (see the type's documentation).
    public mutating func next() throws(WebSocketProtocolError) -> WebSocketFrame? {
        if let failure { throw failure }
        do throws(WebSocketProtocolError) {
            return try parseFrame()
        } catch {
            failure = error
            throw error
        }
    }

    // MARK: - Parsing

    private mutating func parseFrame() throws(WebSocketProtocolError) -> WebSocketFrame? {
        let start = readIndex
        let available = buffer.count &- start
        guard available >= 2 else { return nil }

        let b0 = buffer[start]
        let b1 = buffer[start &+ 1]
        let fin = b0 & 0x80 != 0
        if b0 & 0x70 != 0 {
            throw .protocolViolation("reserved bits set without a negotiated extension")
        }
        guard let opcode = WebSocketOpcode(rawValue: b0 & 0x0F) else {
            throw .protocolViolation("reserved opcode \(b0 & 0x0F)")
        }
        if opcode.isControl && !fin {
            throw .protocolViolation("fragmented control frame")
        }
        let masked = b1 & 0x80 != 0
        if masked != expectMasked {
            throw .protocolViolation(expectMasked ? "client frames must be masked" : "server frames must not be masked")
        }

        var headerLength = 2
        let payloadLength: UInt64
        switch b1 & 0x7F {
        case 126:
            guard available >= 4 else { return nil }
            payloadLength = UInt64(buffer[start &+ 2]) << 8 | UInt64(buffer[start &+ 3])
            headerLength = 4
        case 127:
            guard available >= 10 else { return nil }
            var n: UInt64 = 0
            for i in 2..<10 { n = n << 8 | UInt64(buffer[start &+ i]) }
            if n & (1 << 63) != 0 {
                throw .protocolViolation("64-bit payload length with the most significant bit set")
            }
            payloadLength = n
            headerLength = 10
        case let short:
            payloadLength = UInt64(short)
        }
        if opcode.isControl && payloadLength > 125 {
            throw .protocolViolation("control frame payload longer than 125 bytes")
        }
        if payloadLength > UInt64(maxFrameSize) {
            throw .tooBig("frame payload of \(payloadLength) bytes exceeds the limit of \(maxFrameSize)")
        }
        // Fits in Int: bounded by maxFrameSize.
        let count = Int(payloadLength)
        if masked { headerLength &+= 4 }
        // No capacity is reserved up front from the announced length: memory grows only
        // with bytes actually received.
        guard available >= headerLength, available &- headerLength >= count else { return nil }

        let payloadStart = start &+ headerLength
        let payload: [UInt8]
        if count == 0 {
            payload = []
        } else if masked {
            let k = payloadStart &- 4
            let key = (buffer[k], buffer[k &+ 1], buffer[k &+ 2], buffer[k &+ 3])
            payload = buffer.withUnsafeBytes { source in
                [UInt8](unsafeUninitializedCapacity: count) { destination, initialized in
                    guard let src = source.baseAddress, let dst = destination.baseAddress else { return }
                    WebSocketMasking.apply(
                        key: key, source: src + payloadStart, destination: UnsafeMutableRawPointer(dst), count: count)
                    initialized = count
                }
            }
        } else {
            payload = Array(buffer[payloadStart..<(payloadStart &+ count)])
        }
        readIndex = payloadStart &+ count
        if readIndex == buffer.count { drain() }
        return WebSocketFrame(fin: fin, opcode: opcode, payload: payload)
    }

    /// Empties the buffer once everything has been read.
    private mutating func drain() {
        readIndex = 0
        if buffer.capacity > Self.retainedCapacity {
            buffer = []
        } else {
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// Drops consumed bytes before appending, when that is cheap relative to what remains.
    private mutating func compact() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            drain()
        } else if readIndex >= 4096 && readIndex >= buffer.count &- readIndex {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
