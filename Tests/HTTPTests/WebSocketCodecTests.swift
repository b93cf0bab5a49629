import BulkheadCrypto
import Testing
@testable import BulkheadHTTP

// RFC 6455 codec tests: frames, messages, close payloads and the opening handshake,
// all on byte arrays (no sockets).

// MARK: - Helpers

/// Deterministic generator so failures reproduce.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

private let rfcKey: WebSocketFrameEncoder.MaskingKey = (0x37, 0xFA, 0x21, 0x3D)

/// Parses a whole byte stream delivered as the given chunks.
private func parseFrames(
    _ chunks: [[UInt8]], expectMasked: Bool, maxFrameSize: Int = 1 << 24
) throws(WebSocketProtocolError) -> [WebSocketFrame] {
    var parser = WebSocketFrameParser(maxFrameSize: maxFrameSize, expectMasked: expectMasked)
    var frames: [WebSocketFrame] = []
    for chunk in chunks {
        parser.append(chunk)
        while let frame = try parser.next() { frames.append(frame) }
    }
    return frames
}

private func parseFrames(
    _ bytes: [UInt8], expectMasked: Bool, maxFrameSize: Int = 1 << 24
) throws(WebSocketProtocolError) -> [WebSocketFrame] {
    try parseFrames([bytes], expectMasked: expectMasked, maxFrameSize: maxFrameSize)
}

/// The error a byte stream produces in the parser, or nil if it parses.
private func parserError(
    _ bytes: [UInt8], expectMasked: Bool = true, maxFrameSize: Int = 1 << 24
) -> WebSocketProtocolError? {
    do {
        _ = try parseFrames(bytes, expectMasked: expectMasked, maxFrameSize: maxFrameSize)
        return nil
    } catch {
        return error
    }
}

/// Pushes frames through an assembler, collecting events, or returns the error.
private func assemble(
    _ frames: [WebSocketFrame], maxMessageSize: Int = 1 << 24
) -> Result<[WebSocketEvent], WebSocketProtocolError> {
    var assembler = WebSocketMessageAssembler(maxMessageSize: maxMessageSize)
    var events: [WebSocketEvent] = []
    do {
        for frame in frames {
            if let event = try assembler.push(frame) { events.append(event) }
        }
        return .success(events)
    } catch {
        return .failure(error)
    }
}

private func assemblyError(_ frames: [WebSocketFrame], maxMessageSize: Int = 1 << 24) -> WebSocketCloseCode? {
    if case .failure(let error) = assemble(frames, maxMessageSize: maxMessageSize) { return error.closeCode }
    return nil
}

private func naiveMask(_ bytes: [UInt8], _ key: [UInt8]) -> [UInt8] {
    bytes.enumerated().map { $0.element ^ key[$0.offset % 4] }
}

private func upgradeHead(
    method: HTTPMethod = .get, version: HTTPVersion = .http1_1, removing: [String] = [],
    replacing: [(String, String)] = []
) -> HTTPRequestHead {
    var headers: HTTPHeaders = [
        "Host": "server.example.com",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    ]
    for name in removing { headers.remove(name: name) }
    for (name, value) in replacing { headers.replaceOrAdd(name: name, value: value) }
    return HTTPRequestHead(method: method, target: "/chat", version: version, headers: headers)
}

private func handshakeFailure(_ head: HTTPRequestHead) -> WebSocketHandshakeError? {
    if case .failure(let error) = WebSocketHandshake.validate(head) { return error }
    return nil
}

// MARK: - RFC 6455 §5.7 examples

@Suite("WebSocket RFC 6455 examples")
struct WebSocketRFCExampleTests {
    @Test func unmaskedHello() throws {
        let bytes: [UInt8] = [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        let frames = try parseFrames(bytes, expectMasked: false)
        #expect(frames == [WebSocketFrame(fin: true, opcode: .text, payload: Array("Hello".utf8))])
        #expect(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hello".utf8)) == bytes)
        #expect(try assemble(frames).get() == [.text("Hello")])
    }

    @Test func maskedHello() throws {
        let bytes: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        let frames = try parseFrames(bytes, expectMasked: true)
        #expect(frames == [WebSocketFrame(fin: true, opcode: .text, payload: Array("Hello".utf8))])
        #expect(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hello".utf8), maskingKey: rfcKey) == bytes)
    }

    @Test func fragmentedHello() throws {
        let first: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6C]
        let second: [UInt8] = [0x80, 0x02, 0x6C, 0x6F]
        let frames = try parseFrames(first + second, expectMasked: false)
        #expect(frames == [
            WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)),
            WebSocketFrame(fin: true, opcode: .continuation, payload: Array("lo".utf8)),
        ])
        #expect(try assemble(frames).get() == [.text("Hello")])
        #expect(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("Hel".utf8), fin: false) == first)
        #expect(WebSocketFrameEncoder.encode(opcode: .continuation, payload: Array("lo".utf8)) == second)
        #expect(WebSocketFrameEncoder.fragments(opcode: .text, payload: Array("Hello".utf8), maxFragmentSize: 3) == [first, second])
    }

    @Test func pingAndMaskedPong() throws {
        let ping: [UInt8] = [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F]
        let pong: [UInt8] = [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        let pingFrames = try parseFrames(ping, expectMasked: false)
        #expect(try assemble(pingFrames).get() == [.ping(Array("Hello".utf8))])
        let pongFrames = try parseFrames(pong, expectMasked: true)
        #expect(try assemble(pongFrames).get() == [.pong(Array("Hello".utf8))])
        #expect(WebSocketFrameEncoder.encode(opcode: .ping, payload: Array("Hello".utf8)) == ping)
        #expect(WebSocketFrameEncoder.encode(opcode: .pong, payload: Array("Hello".utf8), maskingKey: rfcKey) == pong)
    }

    @Test func binary256Bytes() throws {
        let payload = (0..<256).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let encoded = WebSocketFrameEncoder.encode(opcode: .binary, payload: payload)
        #expect(Array(encoded.prefix(4)) == [0x82, 0x7E, 0x01, 0x00])
        #expect(encoded.count == 4 + 256)
        let frames = try parseFrames(encoded, expectMasked: false)
        #expect(frames == [WebSocketFrame(opcode: .binary, payload: payload)])
        #expect(try assemble(frames).get() == [.binary(payload)])
    }

    @Test func binary64KiB() throws {
        let payload = (0..<65536).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 3) }
        let encoded = WebSocketFrameEncoder.encode(opcode: .binary, payload: payload)
        #expect(Array(encoded.prefix(10)) == [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00])
        #expect(encoded.count == 10 + 65536)
        #expect(try parseFrames(encoded, expectMasked: false) == [WebSocketFrame(opcode: .binary, payload: payload)])

        let masked = WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskingKey: rfcKey)
        #expect(Array(masked.prefix(14)) == [0x82, 0xFF, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00, 0x37, 0xFA, 0x21, 0x3D])
        #expect(Array(masked.dropFirst(14)) == naiveMask(payload, [0x37, 0xFA, 0x21, 0x3D]))
        #expect(try parseFrames(masked, expectMasked: true) == [WebSocketFrame(opcode: .binary, payload: payload)])
    }

    @Test func handshakeSampleKey() {
        #expect(WebSocketHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}

// MARK: - Parser

@Suite("WebSocket frame parser")
struct WebSocketFrameParserTests {
    /// A stream of several frames of different sizes and kinds, masked as a client sends them.
    static func sampleStream() -> (bytes: [UInt8], frames: [WebSocketFrame]) {
        let frames = [
            WebSocketFrame(fin: false, opcode: .text, payload: Array("Hel".utf8)),
            WebSocketFrame(opcode: .ping, payload: []),
            WebSocketFrame(fin: true, opcode: .continuation, payload: Array("lo, wörld".utf8)),
            WebSocketFrame(opcode: .binary, payload: (0..<200).map { UInt8($0) }),
            WebSocketFrame(opcode: .pong, payload: Array(repeating: 0xAB, count: 125)),
            WebSocketFrame(opcode: .binary, payload: []),
            WebSocketFrame(opcode: .text, payload: Array("€ 🎉".utf8)),
            WebSocketFrame(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: .goingAway, reason: "bye")),
        ]
        var bytes: [UInt8] = []
        for (i, frame) in frames.enumerated() {
            let key = (UInt8(i), UInt8(0x10 + i), UInt8(0x80 + i), UInt8(0xF0 - i))
            bytes += WebSocketFrameEncoder.encode(frame, maskingKey: key)
        }
        return (bytes, frames)
    }

    @Test func everyTwoWaySplitGivesTheSameFrames() throws {
        let (bytes, expected) = Self.sampleStream()
        for split in 0...bytes.count {
            let frames = try parseFrames([Array(bytes[..<split]), Array(bytes[split...])], expectMasked: true)
            #expect(frames == expected, "split at \(split)")
        }
    }

    @Test func oneByteAtATime() throws {
        let (bytes, expected) = Self.sampleStream()
        #expect(try parseFrames(bytes.map { [$0] }, expectMasked: true) == expected)
    }

    @Test func randomChunkingWithLargeFrames() throws {
        var rng = SplitMix64(seed: 42)
        var (bytes, expected) = Self.sampleStream()
        let big = (0..<70_000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let medium = (0..<65535).map { _ in UInt8.random(in: 0...255, using: &rng) }
        for payload in [big, medium] {
            expected.append(WebSocketFrame(opcode: .binary, payload: payload))
            bytes += WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskingKey: (1, 2, 3, 4))
        }
        for _ in 0..<20 {
            var chunks: [[UInt8]] = []
            var offset = 0
            while offset < bytes.count {
                let n = min(Int.random(in: 1...9000, using: &rng), bytes.count - offset)
                chunks.append(Array(bytes[offset..<(offset + n)]))
                offset += n
            }
            #expect(try parseFrames(chunks, expectMasked: true) == expected)
        }
    }

    @Test func rawBufferAppend() throws {
        let (bytes, expected) = Self.sampleStream()
        var parser = WebSocketFrameParser(maxFrameSize: 1024, expectMasked: true)
        var frames: [WebSocketFrame] = []
        var offset = 0
        while offset < bytes.count {
            let end = min(offset + 7, bytes.count)
            Array(bytes[offset..<end]).withUnsafeBytes { parser.append($0) }
            while let frame = try parser.next() { frames.append(frame) }
            offset = end
        }
        #expect(frames == expected)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func needsMoreBytesReturnsNil() throws {
        var parser = WebSocketFrameParser(maxFrameSize: 1024, expectMasked: false)
        #expect(try parser.next() == nil)
        parser.append([0x81])
        #expect(try parser.next() == nil)
        parser.append([0x05, 0x48])
        #expect(try parser.next() == nil)
        #expect(parser.bufferedByteCount == 3)
        parser.append([0x65, 0x6C, 0x6C, 0x6F])
        #expect(try parser.next()?.payload == Array("Hello".utf8))
        #expect(try parser.next() == nil)
    }

    @Test func nonMinimalLengthsAreAccepted() throws {
        // 5 bytes announced with the 16-bit and the 64-bit forms.
        let hello = Array("Hello".utf8)
        let sixteen: [UInt8] = [0x81, 0x7E, 0x00, 0x05] + hello
        let sixtyFour: [UInt8] = [0x82, 0x7F, 0, 0, 0, 0, 0, 0, 0, 5] + hello
        #expect(try parseFrames(sixteen, expectMasked: false) == [WebSocketFrame(opcode: .text, payload: hello)])
        #expect(try parseFrames(sixtyFour, expectMasked: false) == [WebSocketFrame(opcode: .binary, payload: hello)])
        // A control frame in the 16-bit form is fine while its length is at most 125.
        let ping: [UInt8] = [0x89, 0x7E, 0x00, 0x05] + hello
        #expect(try parseFrames(ping, expectMasked: false) == [WebSocketFrame(opcode: .ping, payload: hello)])
    }

    @Test func reservedBitsAre1002() {
        for bit: UInt8 in [0x40, 0x20, 0x10] {
            let error = parserError([0x81 | bit, 0x80, 1, 2, 3, 4])
            #expect(error?.closeCode == .protocolError)
        }
        var frame = WebSocketFrame(opcode: .binary, payload: [1, 2, 3])
        frame.rsv1 = true
        #expect(parserError(WebSocketFrameEncoder.encode(frame, maskingKey: rfcKey))?.closeCode == .protocolError)
    }

    @Test func reservedOpcodesAre1002() {
        for opcode: UInt8 in [0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            #expect(WebSocketOpcode(rawValue: opcode) == nil)
            #expect(parserError([0x80 | opcode, 0x80, 1, 2, 3, 4])?.closeCode == .protocolError, "opcode \(opcode)")
        }
    }

    @Test func maskingRules() {
        // A server requires masked client frames.
        #expect(parserError([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], expectMasked: true)?.closeCode == .protocolError)
        // A client rejects masked server frames.
        #expect(
            parserError([0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58], expectMasked: false)?.closeCode
                == .protocolError)
    }

    @Test func controlFrameRules() {
        // 126 bytes of ping: too long for a control frame.
        let longPing = WebSocketFrameEncoder.encode(opcode: .ping, payload: Array(repeating: 1, count: 126), maskingKey: rfcKey)
        #expect(parserError(longPing)?.closeCode == .protocolError)
        // Detected from the header alone.
        #expect(parserError([0x88, 0xFE, 0x00, 0xC8])?.closeCode == .protocolError)
        #expect(parserError([0x8A, 0xFF, 0, 0, 0, 0, 0, 0, 0x01, 0x00])?.closeCode == .protocolError)
        // Fragmented control frames.
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            #expect(parserError([opcode, 0x80, 1, 2, 3, 4])?.closeCode == .protocolError)
        }
        // 125 bytes is fine.
        let maxPing = WebSocketFrameEncoder.encode(opcode: .ping, payload: Array(repeating: 1, count: 125), maskingKey: rfcKey)
        #expect(parserError(maxPing) == nil)
    }

    @Test func sixtyFourBitLengthWithHighBitIs1002() {
        let bytes: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0x05, 1, 2, 3, 4]
        #expect(parserError(bytes, maxFrameSize: Int.max)?.closeCode == .protocolError)
    }

    @Test func frameTooBigIs1009FromTheHeaderAlone() {
        // Only the header arrives: 1 MiB announced with a 64 KiB limit.
        #expect(parserError([0x82, 0x7F, 0, 0, 0, 0, 0, 0x10, 0, 0], expectMasked: false, maxFrameSize: 65536)?.closeCode
            == .messageTooBig)
        // 16-bit form, before the masking key has arrived.
        #expect(parserError([0x82, 0xFE, 0x10, 0x00], maxFrameSize: 1000)?.closeCode == .messageTooBig)
        // 7-bit form.
        #expect(parserError([0x82, 0x8B], maxFrameSize: 10)?.closeCode == .messageTooBig)
        // Exactly the limit is accepted.
        let atLimit = WebSocketFrameEncoder.encode(opcode: .binary, payload: Array(repeating: 9, count: 1000), maskingKey: rfcKey)
        #expect(parserError(atLimit, maxFrameSize: 1000) == nil)
        #expect(parserError(atLimit, maxFrameSize: 999)?.closeCode == .messageTooBig)
        // The largest 64-bit length (MSB clear) is still just "too big".
        #expect(parserError([0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], expectMasked: false, maxFrameSize: 1 << 30)?
            .closeCode == .messageTooBig)
    }

    @Test func errorsAreSticky() throws {
        var parser = WebSocketFrameParser(maxFrameSize: 1024, expectMasked: true)
        parser.append([0x83, 0x80, 1, 2, 3, 4])
        var first: WebSocketProtocolError?
        do { _ = try parser.next() } catch { first = error }
        #expect(first?.closeCode == .protocolError)
        parser.append(WebSocketFrameEncoder.encode(opcode: .text, payload: [0x41], maskingKey: rfcKey))
        var second: WebSocketProtocolError?
        do { _ = try parser.next() } catch { second = error }
        #expect(second == first)
    }

    @Test func frameFromValidFramesBeforeTheErrorIsReturned() throws {
        var parser = WebSocketFrameParser(maxFrameSize: 1024, expectMasked: true)
        parser.append(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("ok".utf8), maskingKey: rfcKey) + [0x8C, 0x80])
        #expect(try parser.next() == WebSocketFrame(opcode: .text, payload: Array("ok".utf8)))
        #expect(throws: WebSocketProtocolError.self) { try parser.next() }
    }
}

// MARK: - Encoder

@Suite("WebSocket frame encoder")
struct WebSocketFrameEncoderTests {
    @Test(arguments: [0, 1, 7, 8, 9, 31, 32, 33, 125, 126, 127, 65535, 65536, 100_003])
    func roundtrip(length: Int) throws {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        for key in [nil, rfcKey] as [WebSocketFrameEncoder.MaskingKey?] {
            let encoded = WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskingKey: key)
            let headerSize = WebSocketFrameEncoder.headerSize(payloadLength: length, masked: key != nil)
            #expect(encoded.count == headerSize + length)
            let expectedHeader = length <= 125 ? 2 : (length <= 65535 ? 4 : 10)
            #expect(headerSize == expectedHeader + (key == nil ? 0 : 4))
            #expect(
                Array(encoded.prefix(headerSize))
                    == WebSocketFrameEncoder.header(opcode: .binary, payloadLength: length, maskingKey: key))
            let frames = try parseFrames(encoded, expectMasked: key != nil)
            #expect(frames == [WebSocketFrame(opcode: .binary, payload: payload)])
        }
    }

    @Test func textRoundtripThroughAssembler() throws {
        let text = String(repeating: "héllo wörld 🎉 ", count: 5000)
        let encoded = WebSocketFrameEncoder.encode(opcode: .text, payload: Array(text.utf8), maskingKey: rfcKey)
        let frames = try parseFrames(encoded, expectMasked: true)
        #expect(try assemble(frames).get() == [.text(text)])
    }

    @Test func maskingMatchesNaiveImplementation() throws {
        var rng = SplitMix64(seed: 7)
        for length in 0..<80 {
            let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let key = (UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng),
                       UInt8.random(in: 0...255, using: &rng), UInt8.random(in: 0...255, using: &rng))
            let encoded = WebSocketFrameEncoder.encode(opcode: .binary, payload: payload, maskingKey: key)
            let header = WebSocketFrameEncoder.headerSize(payloadLength: length, masked: true)
            #expect(Array(encoded.dropFirst(header)) == naiveMask(payload, [key.0, key.1, key.2, key.3]))
            #expect(try parseFrames(encoded, expectMasked: true).first?.payload == payload)
        }
    }

    @Test func closeFrames() throws {
        #expect(WebSocketFrameEncoder.closeFrame(code: nil) == [0x88, 0x00])
        #expect(WebSocketFrameEncoder.closeFrame(code: .normalClosure) == [0x88, 0x02, 0x03, 0xE8])
        #expect(WebSocketFrameEncoder.closeFrame(code: .goingAway, reason: "bye") == [0x88, 0x05, 0x03, 0xE9, 0x62, 0x79, 0x65])
        // A long reason is cut to 123 bytes, never inside a UTF-8 sequence.
        let reason = String(repeating: "é", count: 100)  // 200 bytes
        let payload = WebSocketFrameEncoder.closePayload(code: .policyViolation, reason: reason)
        #expect(payload.count == 2 + 122)
        let frame = WebSocketFrameEncoder.closeFrame(code: .policyViolation, reason: reason)
        let frames = try parseFrames(frame, expectMasked: false)
        #expect(try assemble(frames).get() == [.close(code: .policyViolation, reason: String(repeating: "é", count: 61))])
        let masked = WebSocketFrameEncoder.closeFrame(code: .normalClosure, reason: "done", maskingKey: rfcKey)
        #expect(try assemble(parseFrames(masked, expectMasked: true)).get() == [.close(code: .normalClosure, reason: "done")])
    }

    @Test func fragmentHelpers() throws {
        let payload = Array("The quick brown fox jumps over the lazy dög".utf8)
        let frames = WebSocketFrameEncoder.fragmentFrames(opcode: .text, payload: payload, maxFragmentSize: 10)
        #expect(frames.count == 5)
        #expect(frames.first?.opcode == .text)
        #expect(frames.dropFirst().allSatisfy { $0.opcode == .continuation })
        #expect(frames.map(\.fin) == [false, false, false, false, true])
        #expect(frames.flatMap(\.payload) == payload)
        #expect(try assemble(frames).get() == [.text(String(decoding: payload, as: UTF8.self))])

        let encoded = WebSocketFrameEncoder.fragments(opcode: .text, payload: payload, maxFragmentSize: 10, maskingKey: rfcKey)
        #expect(try parseFrames(encoded, expectMasked: true) == frames)

        #expect(WebSocketFrameEncoder.fragmentFrames(opcode: .binary, payload: [], maxFragmentSize: 10)
            == [WebSocketFrame(opcode: .binary, payload: [])])
        #expect(WebSocketFrameEncoder.fragmentFrames(opcode: .binary, payload: [1, 2, 3], maxFragmentSize: 3).count == 1)
        #expect(WebSocketFrameEncoder.fragmentFrames(opcode: .binary, payload: [1, 2, 3], maxFragmentSize: 0).count == 3)
    }

    @Test func randomMaskingKeysDiffer() {
        let keys = (0..<8).map { _ in
            let k = WebSocketFrameEncoder.randomMaskingKey()
            return [k.0, k.1, k.2, k.3]
        }
        #expect(Set(keys).count > 1)
    }
}

// MARK: - Assembler

@Suite("WebSocket message assembler")
struct WebSocketMessageAssemblerTests {
    @Test func controlFramesInterleaveWithFragments() throws {
        let frames = [
            WebSocketFrame(fin: false, opcode: .binary, payload: [1, 2]),
            WebSocketFrame(opcode: .ping, payload: [9]),
            WebSocketFrame(fin: false, opcode: .continuation, payload: [3]),
            WebSocketFrame(opcode: .pong, payload: []),
            WebSocketFrame(fin: true, opcode: .continuation, payload: [4, 5]),
            WebSocketFrame(opcode: .text, payload: Array("next".utf8)),
            WebSocketFrame(fin: false, opcode: .text, payload: Array("a".utf8)),
            WebSocketFrame(opcode: .close, payload: [0x03, 0xE8]),
        ]
        #expect(try assemble(frames).get() == [
            .ping([9]), .pong([]), .binary([1, 2, 3, 4, 5]), .text("next"), .close(code: .normalClosure, reason: ""),
        ])
    }

    @Test func fromParsedStream() throws {
        let (bytes, _) = WebSocketFrameParserTests.sampleStream()
        let frames = try parseFrames(bytes, expectMasked: true)
        #expect(try assemble(frames).get() == [
            .ping([]), .text("Hello, wörld"), .binary((0..<200).map { UInt8($0) }),
            .pong(Array(repeating: 0xAB, count: 125)), .binary([]), .text("€ 🎉"),
            .close(code: .goingAway, reason: "bye"),
        ])
    }

    @Test func emptyMessages() throws {
        #expect(try assemble([WebSocketFrame(opcode: .text)]).get() == [.text("")])
        #expect(try assemble([
            WebSocketFrame(fin: false, opcode: .text), WebSocketFrame(fin: false, opcode: .continuation),
            WebSocketFrame(fin: true, opcode: .continuation),
        ]).get() == [.text("")])
    }

    @Test func continuationWithoutMessageIs1002() {
        #expect(assemblyError([WebSocketFrame(opcode: .continuation, payload: [1])]) == .protocolError)
        #expect(assemblyError([WebSocketFrame(fin: false, opcode: .continuation, payload: [1])]) == .protocolError)
        // After a message completed, a stray continuation is still an error.
        #expect(assemblyError([
            WebSocketFrame(fin: false, opcode: .binary, payload: [1]),
            WebSocketFrame(fin: true, opcode: .continuation, payload: [2]),
            WebSocketFrame(fin: true, opcode: .continuation, payload: [3]),
        ]) == .protocolError)
    }

    @Test func newDataFrameDuringMessageIs1002() {
        for opcode in [WebSocketOpcode.text, .binary] {
            #expect(assemblyError([
                WebSocketFrame(fin: false, opcode: .binary, payload: [1]),
                WebSocketFrame(fin: true, opcode: opcode, payload: Array("x".utf8)),
            ]) == .protocolError)
        }
    }

    @Test func invalidControlFramesAre1002() {
        #expect(assemblyError([WebSocketFrame(fin: false, opcode: .ping)]) == .protocolError)
        #expect(assemblyError([WebSocketFrame(opcode: .pong, payload: Array(repeating: 0, count: 126))]) == .protocolError)
    }

    @Test func messageTooBigIs1009() throws {
        #expect(assemblyError([WebSocketFrame(opcode: .binary, payload: Array(repeating: 0, count: 11))], maxMessageSize: 10)
            == .messageTooBig)
        #expect(assemblyError([WebSocketFrame(opcode: .binary, payload: Array(repeating: 0, count: 10))], maxMessageSize: 10)
            == nil)
        #expect(assemblyError([
            WebSocketFrame(fin: false, opcode: .text, payload: Array(repeating: 0x41, count: 6)),
            WebSocketFrame(fin: false, opcode: .continuation, payload: Array(repeating: 0x41, count: 4)),
            WebSocketFrame(fin: true, opcode: .continuation, payload: [0x41]),
        ], maxMessageSize: 10) == .messageTooBig)
        // Fails on the fragment that crosses the limit, even if it is not the last.
        var assembler = WebSocketMessageAssembler(maxMessageSize: 10)
        #expect(try assembler.push(WebSocketFrame(fin: false, opcode: .binary, payload: Array(repeating: 0, count: 8))) == nil)
        #expect(throws: WebSocketProtocolError(closeCode: .messageTooBig, message: "message larger than the limit of 10 bytes")) {
            try assembler.push(WebSocketFrame(fin: false, opcode: .continuation, payload: [0, 0, 0]))
        }
    }

    @Test func invalidUTF8Is1007() {
        let invalid: [[UInt8]] = [
            [0xFF], [0xC0, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80],
            [0xF5, 0x80, 0x80, 0x80], [0x80], [0x41, 0xC3], [0xCE, 0xBA, 0xE1, 0xBD],
        ]
        for bytes in invalid {
            #expect(assemblyError([WebSocketFrame(opcode: .text, payload: bytes)]) == .invalidPayload, "\(bytes)")
        }
        // Binary messages are not validated.
        #expect(assemblyError([WebSocketFrame(opcode: .binary, payload: [0xFF])]) == nil)
    }

    @Test func utf8SplitAcrossFragmentsIsValidWhenJoined() throws {
        let text = "κόσμε € 🎉𝄞"
        let bytes = Array(text.utf8)
        // Every two- and three-way split.
        for i in 0...bytes.count {
            for j in i...bytes.count {
                let frames = [
                    WebSocketFrame(fin: false, opcode: .text, payload: Array(bytes[..<i])),
                    WebSocketFrame(fin: false, opcode: .continuation, payload: Array(bytes[i..<j])),
                    WebSocketFrame(fin: true, opcode: .continuation, payload: Array(bytes[j...])),
                ]
                #expect(try assemble(frames).get() == [.text(text)])
            }
        }
    }

    @Test func invalidUTF8InFragments() throws {
        // Fails fast on the first fragment that cannot be completed...
        var assembler = WebSocketMessageAssembler(maxMessageSize: 1 << 20)
        #expect(try assembler.push(WebSocketFrame(fin: false, opcode: .text, payload: Array("ok".utf8))) == nil)
        #expect(throws: WebSocketProtocolError.self) {
            try assembler.push(WebSocketFrame(fin: false, opcode: .continuation, payload: [0xED, 0xA0]))
        }
        // ...and a message ending inside a code point is invalid.
        #expect(assemblyError([
            WebSocketFrame(fin: false, opcode: .text, payload: Array("ok".utf8)),
            WebSocketFrame(fin: true, opcode: .continuation, payload: [0xF0, 0x9F, 0x8E]),
        ]) == .invalidPayload)
        #expect(assemblyError([
            WebSocketFrame(fin: false, opcode: .text, payload: [0xE2, 0x82]),
            WebSocketFrame(fin: true, opcode: .continuation, payload: [0x41]),
        ]) == .invalidPayload)
    }

    @Test func closePayloads() throws {
        #expect(try assemble([WebSocketFrame(opcode: .close)]).get() == [.close(code: nil, reason: "")])
        #expect(try assemble([WebSocketFrame(opcode: .close, payload: [0x0B, 0xB8] + Array("über".utf8))]).get()
            == [.close(code: WebSocketCloseCode(3000), reason: "über")])
        // One byte.
        #expect(assemblyError([WebSocketFrame(opcode: .close, payload: [0x03])]) == .protocolError)
        // Invalid codes.
        for code: UInt16 in [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            let payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
            #expect(assemblyError([WebSocketFrame(opcode: .close, payload: payload)]) == .protocolError, "code \(code)")
        }
        // Valid codes.
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            let payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
            #expect(try assemble([WebSocketFrame(opcode: .close, payload: payload)]).get()
                == [.close(code: WebSocketCloseCode(code), reason: "")], "code \(code)")
        }
        // Invalid UTF-8 reason.
        #expect(assemblyError([WebSocketFrame(opcode: .close, payload: [0x03, 0xE8, 0xCE, 0xBA, 0xFF])]) == .invalidPayload)
    }

    @Test func closeCodeConstants() {
        let constants: [(WebSocketCloseCode, UInt16)] = [
            (.normalClosure, 1000), (.goingAway, 1001), (.protocolError, 1002), (.unsupportedData, 1003),
            (.invalidPayload, 1007), (.policyViolation, 1008), (.messageTooBig, 1009), (.internalError, 1011),
        ]
        for (code, raw) in constants {
            #expect(code.rawValue == raw)
            #expect(code.isValidOnWire)
        }
    }
}

// MARK: - UTF-8 and base64 internals

@Suite("WebSocket internals")
struct WebSocketInternalsTests {
    @Test func utf8ValidatorAgreesWithTheStandardLibrary() {
        var rng = SplitMix64(seed: 99)
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                    0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &rng)
            let bytes = (0..<length).map { _ in interesting[Int.random(in: 0..<interesting.count, using: &rng)] }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            let split = Int.random(in: 0...length, using: &rng)
            var validator = WebSocketUTF8Validator()
            let ok = validator.feed(Array(bytes[..<split])) && validator.feed(Array(bytes[split...])) && validator.isComplete
            #expect(ok == expected, "\(bytes)")
        }
        // Long ASCII runs take the fast path, with a bad byte at each position after them.
        for position in 0..<40 {
            var bytes = Array(repeating: UInt8(ascii: "a"), count: 40)
            bytes[position] = 0xFF
            var validator = WebSocketUTF8Validator()
            let ok = validator.feed(bytes)
            #expect(!ok, "bad byte at \(position)")
        }
    }
}

// MARK: - Handshake

@Suite("WebSocket handshake")
struct WebSocketHandshakeTests {
    @Test func acceptsTheRFCRequest() throws {
        #expect(try WebSocketHandshake.validate(upgradeHead()).get() == "dGhlIHNhbXBsZSBub25jZQ==")
        // Token matching is case-insensitive, lists are accepted, the key is trimmed.
        let head = upgradeHead(replacing: [
            ("Upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade"),
            ("Sec-WebSocket-Key", " dGhlIHNhbXBsZSBub25jZQ== "),
        ])
        #expect(try WebSocketHandshake.validate(head).get() == "dGhlIHNhbXBsZSBub25jZQ==")
    }

    @Test func responseHeaders() {
        let headers = WebSocketHandshake.responseHeaders(forKey: "dGhlIHNhbXBsZSBub25jZQ==", subprotocol: "chat")
        #expect(headers["upgrade"] == "websocket")
        #expect(headers["connection"] == "Upgrade")
        #expect(headers["sec-websocket-accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(headers["sec-websocket-protocol"] == "chat")
        let head = upgradeHead(replacing: [("Sec-WebSocket-Protocol", "Chat, superchat")])
        #expect(WebSocketHandshake.requestedSubprotocols(head) == ["Chat", "superchat"])
    }

    @Test func wrongMethodIs405() {
        let error = handshakeFailure(upgradeHead(method: .post))
        #expect(error?.status.code == 405)
        #expect(error?.code == WebSocketHandshakeError.Code.methodNotAllowed)
        #expect(error?.headers["allow"] == "GET")
    }

    @Test func http10Is400() {
        let error = handshakeFailure(upgradeHead(version: .http1_0))
        #expect(error?.status.code == 400)
        #expect(error?.code == WebSocketHandshakeError.Code.unsupportedHTTPVersion)
    }

    @Test func missingUpgradeIs426() {
        for head in [upgradeHead(removing: ["Upgrade"]), upgradeHead(replacing: [("Upgrade", "h2c")])] {
            let error = handshakeFailure(head)
            #expect(error?.status.code == 426)
            #expect(error?.code == WebSocketHandshakeError.Code.upgradeRequired)
            #expect(error?.headers["upgrade"] == "websocket")
        }
    }

    @Test func missingConnectionUpgradeIs400() {
        for head in [upgradeHead(removing: ["Connection"]), upgradeHead(replacing: [("Connection", "keep-alive")])] {
            let error = handshakeFailure(head)
            #expect(error?.status.code == 400)
            #expect(error?.code == WebSocketHandshakeError.Code.connectionUpgradeMissing)
        }
    }

    @Test func wrongVersionIs426WithVersionHeader() {
        for head in [
            upgradeHead(removing: ["Sec-WebSocket-Version"]), upgradeHead(replacing: [("Sec-WebSocket-Version", "8")]),
            upgradeHead(replacing: [("Sec-WebSocket-Version", "13, 8")]),
        ] {
            let error = handshakeFailure(head)
            #expect(error?.status.code == 426)
            #expect(error?.code == WebSocketHandshakeError.Code.unsupportedVersion)
            #expect(error?.headers["sec-websocket-version"] == "13")
        }
    }

    @Test func badKeysAre400() {
        let missing = handshakeFailure(upgradeHead(removing: ["Sec-WebSocket-Key"]))
        #expect(missing?.status.code == 400)
        #expect(missing?.code == WebSocketHandshakeError.Code.keyMissing)

        var twoKeys = upgradeHead()
        twoKeys.headers.add(name: "Sec-WebSocket-Key", value: "AAAAAAAAAAAAAAAAAAAAAA==")
        #expect(handshakeFailure(twoKeys)?.code == WebSocketHandshakeError.Code.keyMissing)

        let badKeys = [
            "", "not base64!", "dGhlIHNhbXBsZSBub25jZQ", "AAAAAAAAAAAAAAAAAAAA",  // 15 bytes
            "AAAAAAAAAAAAAAAAAAAAAAAA",  // 18 bytes
            Base64.encode(Array(repeating: 1, count: 17)),
        ]
        for key in badKeys {
            let error = handshakeFailure(upgradeHead(replacing: [("Sec-WebSocket-Key", key)]))
            #expect(error?.status.code == 400, "\(key)")
            #expect(error?.code == WebSocketHandshakeError.Code.keyInvalid, "\(key)")
        }
    }

    @Test func clientHandshakeRoundtrip() throws {
        let client = WebSocketClientHandshake(subprotocols: ["chat", "superchat"])
        #expect(Base64.decode(client.key)?.count == 16)
        #expect(WebSocketClientHandshake().key != client.key)
        let head = client.requestHead(target: "/ws", host: "localhost:8080")
        let key = try WebSocketHandshake.validate(head).get()
        #expect(key == client.key)
        #expect(WebSocketHandshake.requestedSubprotocols(head) == ["chat", "superchat"])

        let ok = WebSocketHandshake.responseHeaders(forKey: key)
        #expect(try client.validateResponse(status: .switchingProtocols, headers: ok).get() == nil)
        let withProtocol = WebSocketHandshake.responseHeaders(forKey: key, subprotocol: "superchat")
        #expect(try client.validateResponse(status: .switchingProtocols, headers: withProtocol).get() == "superchat")
    }

    @Test func clientRejectsBadResponses() {
        typealias Code = WebSocketClientHandshakeError.Code
        let client = WebSocketClientHandshake(key: "dGhlIHNhbXBsZSBub25jZQ==", subprotocols: ["chat"])
        #expect(client.expectedAccept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let good = WebSocketHandshake.responseHeaders(forKey: client.key)

        func failure(_ status: HTTPStatus, _ headers: HTTPHeaders) -> String? {
            if case .failure(let error) = client.validateResponse(status: status, headers: headers) { return error.code }
            return nil
        }
        #expect(failure(.switchingProtocols, good) == nil)
        #expect(failure(.ok, good) == Code.unexpectedStatus)
        var h = good
        h.remove(name: "Upgrade")
        #expect(failure(.switchingProtocols, h) == Code.missingUpgrade)
        h = good
        h.replaceOrAdd(name: "Connection", value: "keep-alive")
        #expect(failure(.switchingProtocols, h) == Code.missingConnectionUpgrade)
        h = good
        h.replaceOrAdd(name: "Sec-WebSocket-Accept", value: WebSocketHandshake.acceptValue(forKey: "AAAAAAAAAAAAAAAAAAAAAA=="))
        #expect(failure(.switchingProtocols, h) == Code.badAccept)
        h = good
        h.remove(name: "Sec-WebSocket-Accept")
        #expect(failure(.switchingProtocols, h) == Code.badAccept)
        h = good
        h.add(name: "Sec-WebSocket-Extensions", value: "permessage-deflate")
        #expect(failure(.switchingProtocols, h) == Code.unexpectedExtension)
        h = good
        h.add(name: "Sec-WebSocket-Protocol", value: "other")
        #expect(failure(.switchingProtocols, h) == Code.unexpectedSubprotocol)
    }
}
