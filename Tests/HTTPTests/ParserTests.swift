import Testing
@testable import BulkheadHTTP

// MARK: - Shared helpers (also used by ResponseParserTests.swift)

/// Helpers for the parser tests: events normalised so that streams fed in different pieces
/// compare equal (adjacent body pieces merged).
enum HTTPParserTestKit {
    enum Event: Equatable, Sendable, CustomStringConvertible {
        /// A canonical text of the head and its framing.
        case head(String)
        case body([UInt8])
        /// Trailers as "name: value".
        case end([String])

        var description: String {
            switch self {
            case .head(let s): "head(\(s))"
            case .body(let b): "body(\(String(decoding: b, as: UTF8.self).debugDescription))"
            case .end(let t): "end(\(t))"
            }
        }
    }

    struct Outcome: Equatable, Sendable, CustomStringConvertible {
        var events: [Event] = []
        var error: HTTPParseError?

        /// Same events and same error kind (messages may differ).
        static func == (a: Outcome, b: Outcome) -> Bool {
            a.events == b.events && a.error?.kind == b.error?.kind
        }

        var description: String { "\(events)" + (error.map { " then \($0)" } ?? "") }

        mutating func add(_ event: Event) {
            if case .body(let more) = event, case .body(let previous)? = events.last {
                events[events.count - 1] = .body(previous + more)
            } else {
                events.append(event)
            }
        }
    }

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func fields(_ headers: HTTPHeaders) -> [String] { headers.map { "\($0.name): \($0.value)" } }

    static func describe(_ head: HTTPRequestHead, _ framing: HTTPBodyFraming) -> String {
        "\(head.method) \(head.target) \(head.version) \(fields(head.headers)) \(framing)"
    }

    static func describe(_ head: HTTPResponseHead, _ framing: HTTPResponseFraming) -> String {
        "\(head.version) \(head.status.code) \(head.status.reason.debugDescription) \(fields(head.headers)) \(framing)"
    }

    /// Feeds `chunks` one after the other to a request parser, draining events after each.
    /// `bodyLimit`, if given, is set after every head.
    static func parseRequests(
        _ chunks: [ArraySlice<UInt8>], limits: HTTPParserLimits = .init(), bodyLimit: Int? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Outcome {
        var parser = HTTPRequestParser(limits: limits)
        var outcome = Outcome()
        for chunk in chunks {
            parser.append(Array(chunk))
            do {
                while let event = try parser.next() {
                    switch event {
                    case .head(let head, let framing):
                        outcome.add(.head(describe(head, framing)))
                        if let bodyLimit { parser.setBodyLimit(bodyLimit) }
                    case .body(let b):
                        #expect(!b.isEmpty, "empty body event", sourceLocation: sourceLocation)
                        outcome.add(.body(b))
                    case .end(let trailers):
                        outcome.add(.end(fields(trailers)))
                    }
                }
            } catch {
                outcome.error = error
                // The parser stays failed, with the same error.
                parser.append(bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
                #expect(throws: error, sourceLocation: sourceLocation) { try parser.next() }
                #expect(parser.bufferedBytes == 0, sourceLocation: sourceLocation)
                return outcome
            }
        }
        return outcome
    }

    static func parseRequests(
        _ raw: [UInt8], limits: HTTPParserLimits = .init(), bodyLimit: Int? = nil,
        sourceLocation: SourceLocation = #_sourceLocation
    ) -> Outcome {
        parseRequests([raw[...]], limits: limits, bodyLimit: bodyLimit, sourceLocation: sourceLocation)
    }

    /// `raw` one byte at a time.
    static func bytewise(_ raw: [UInt8]) -> [ArraySlice<UInt8>] { raw.indices.map { raw[$0...$0] } }

    /// `raw` cut at `cuts` (sorted offsets).
    static func pieces(_ raw: [UInt8], cuts: [Int]) -> [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var start = 0
        for cut in cuts + [raw.count] {
            result.append(raw[start..<cut])
            start = cut
        }
        return result
    }

    /// Deterministic generator (SplitMix64) for the fuzz tests.
    struct SeededGenerator: RandomNumberGenerator {
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

    /// One to four random edits of `raw`, biased towards the bytes that matter to HTTP.
    static func mutate(_ raw: [UInt8], using rng: inout SeededGenerator) -> [UInt8] {
        let interesting: [UInt8] = [0x0D, 0x0A, 0x20, 0x09, 0x3A, 0x3B, 0x3D, 0x22, 0x00, 0x7F, 0x80, 0xFF, 0x30, 0x66, 0x2C, 0x2F]
        var bytes = raw
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let b = Bool.random(using: &rng) ? interesting.randomElement(using: &rng) ?? 0 : UInt8.random(in: 0...255, using: &rng)
            let i = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !bytes.isEmpty: bytes[i] = b
            case 1: bytes.insert(b, at: i)
            case 2 where !bytes.isEmpty: bytes.remove(at: i)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, i + Int.random(in: 1...16, using: &rng))
                bytes.insert(contentsOf: bytes[i..<end], at: i)
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, i + Int.random(in: 1...8, using: &rng))
                bytes.removeSubrange(i..<end)
            default:
                bytes = Array(bytes.prefix(i))
            }
        }
        return bytes
    }
}

// MARK: - Request corpus

struct ParserRequestCase: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: [UInt8]
    var expected: [HTTPParserTestKit.Event]
    var testDescription: String { name }

    typealias E = HTTPParserTestKit.Event

    static let get = ParserRequestCase(
        name: "GET without body",
        raw: HTTPParserTestKit.bytes(
            "GET /index.html?q=1&r=%20 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\nAccept: */*\r\n\r\n"),
        expected: [
            .head("GET /index.html?q=1&r=%20 HTTP/1.1 [\"Host: example.com\", \"User-Agent: test/1.0\", \"Accept: */*\"] none"),
            .end([]),
        ])

    static let postLength = ParserRequestCase(
        name: "POST with Content-Length",
        raw: HTTPParserTestKit.bytes(
            "POST /api/items HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"a\":[1,2,3]}"),
        expected: [
            .head("POST /api/items HTTP/1.1 [\"Host: api\", \"Content-Type: application/json\", \"Content-Length: 13\"] length(13)"),
            .body(HTTPParserTestKit.bytes("{\"a\":[1,2,3]}")),
            .end([]),
        ])

    static let chunked = ParserRequestCase(
        name: "chunked with extensions and trailers",
        raw: HTTPParserTestKit.bytes(
            "POST /upload HTTP/1.1\r\nHost: up\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "5;name=value\r\nhello\r\n"
                + "7 ; a ; b = \"q \\\" ;x\"\r\n, world\r\n"
                + "1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                + "0;final=1\r\nX-Checksum: abc123\r\nX-Trace:   t1  \r\n\r\n"),
        expected: [
            .head("POST /upload HTTP/1.1 [\"Host: up\", \"Transfer-Encoding: chunked\"] chunked"),
            .body(HTTPParserTestKit.bytes("hello, worldabcdefghijklmnopqrstuvwxyz")),
            .end(["X-Checksum: abc123", "X-Trace: t1"]),
        ])

    static let pipelined = ParserRequestCase(
        name: "three pipelined requests",
        raw: get.raw + postLength.raw + chunked.raw,
        expected: get.expected + postLength.expected + chunked.expected)

    static let http10 = ParserRequestCase(
        name: "HTTP/1.0 requests",
        raw: HTTPParserTestKit.bytes(
            "GET /old HTTP/1.0\r\nUser-Agent: legacy\r\n\r\nPOST /form HTTP/1.0\r\nContent-Length: 3\r\n\r\na=b"),
        expected: [
            .head("GET /old HTTP/1.0 [\"User-Agent: legacy\"] none"),
            .end([]),
            .head("POST /form HTTP/1.0 [\"Content-Length: 3\"] length(3)"),
            .body(HTTPParserTestKit.bytes("a=b")),
            .end([]),
        ])

    static let leadingCRLF = ParserRequestCase(
        name: "leading empty lines",
        raw: HTTPParserTestKit.bytes("\r\n\r\nOPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"),
        expected: [
            .head("OPTIONS * HTTP/1.1 [\"Host: x\"] none"), .end([]),
            .head("GET / HTTP/1.1 [\"Host: x\"] none"), .end([]),
        ])

    static let fieldValues = ParserRequestCase(
        name: "field values: empty, HTAB, UTF-8, OWS, repeated Content-Length",
        raw: HTTPParserTestKit.bytes(
            "PUT /x HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX-Blank:   \r\nX-Tab: a\tb\r\nX-Utf8: café ☕\r\nX-Pad: \t  v  w \t\r\n"
                + "Content-Length: 3, 3\r\ncontent-length: 03\r\n\r\nabc"),
        expected: [
            .head(
                "PUT /x HTTP/1.1 [\"Host: h\", \"X-Empty: \", \"X-Blank: \", \"X-Tab: a\\tb\", \"X-Utf8: café ☕\", \"X-Pad: v  w\", "
                    + "\"Content-Length: 3, 3\", \"content-length: 03\"] length(3)"),
            .body(HTTPParserTestKit.bytes("abc")),
            .end([]),
        ])

    static let emptyBodies = ParserRequestCase(
        name: "Content-Length 0 and empty chunked body",
        raw: HTTPParserTestKit.bytes(
            "POST /e HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n"
                + "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n000\r\n\r\n"),
        expected: [
            .head("POST /e HTTP/1.1 [\"Host: h\", \"Content-Length: 0\"] length(0)"), .end([]),
            .head("POST /c HTTP/1.1 [\"Host: h\", \"Transfer-Encoding: Chunked\"] chunked"), .end([]),
        ])

    static let all: [ParserRequestCase] = [get, postLength, chunked, pipelined, http10, leadingCRLF, fieldValues, emptyBodies]
}

// MARK: - Bad requests

struct ParserBadRequest: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: [UInt8]
    var kind: HTTPParseError.Kind
    var testDescription: String { name }

    init(_ name: String, _ raw: String, _ kind: HTTPParseError.Kind = .malformed) {
        self.init(name, HTTPParserTestKit.bytes(raw), kind)
    }

    init(_ name: String, _ raw: [UInt8], _ kind: HTTPParseError.Kind = .malformed) {
        self.name = name
        self.raw = raw
        self.kind = kind
    }

    /// A request with these extra header lines.
    static func headers(_ name: String, _ lines: String, _ kind: HTTPParseError.Kind = .malformed) -> ParserBadRequest {
        ParserBadRequest(name, "POST / HTTP/1.1\r\nHost: a\r\n\(lines)\r\n", kind)
    }

    /// A chunked request with this body.
    static func chunked(_ name: String, _ body: String) -> ParserBadRequest {
        ParserBadRequest(name, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\(body)")
    }

    static func target(_ name: String, _ byte: UInt8) -> ParserBadRequest {
        ParserBadRequest(name, HTTPParserTestKit.bytes("GET /a") + [byte] + HTTPParserTestKit.bytes("b HTTP/1.1\r\nHost: a\r\n\r\n"))
    }

    static let all: [ParserBadRequest] = [
        // Request line
        ParserBadRequest("two spaces after method", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ParserBadRequest("two spaces after target", "GET /  HTTP/1.1\r\nHost: a\r\n\r\n"),
        ParserBadRequest("method not a token", "G@T / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ParserBadRequest("leading space", " GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ParserBadRequest("trailing space", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n"),
        ParserBadRequest("HTTP/0.9 request line", "GET /\r\n\r\n"),
        ParserBadRequest("method only", "GET\r\n\r\n"),
        ParserBadRequest("lowercase version", "GET / http/1.1\r\nHost: a\r\n\r\n"),
        ParserBadRequest("three-digit version", "GET / HTTP/1.10\r\nHost: a\r\n\r\n"),
        ParserBadRequest("version without dot", "GET / HTTP/11\r\nHost: a\r\n\r\n"),
        ParserBadRequest("HTTPS version", "GET / HTTPS/1.1\r\nHost: a\r\n\r\n"),
        ParserBadRequest("garbage", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\r\n\r\n"),
        target("control byte in target", 0x01),
        target("DEL in target", 0x7F),
        target("non-ASCII byte in target", 0x80),
        target("HTAB in target", 0x09),
        target("NUL in target", 0x00),
        ParserBadRequest("too many leading empty lines", String(repeating: "\r\n", count: 9) + "GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        ParserBadRequest("bare LF empty line", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
        // Versions
        ParserBadRequest("HTTP/2.0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", .versionNotSupported),
        ParserBadRequest("HTTP/1.2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", .versionNotSupported),
        ParserBadRequest("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", .versionNotSupported),
        ParserBadRequest("HTTP/3.0", "GET / HTTP/3.0\r\n\r\n", .versionNotSupported),
        // Field lines
        headers("space before colon", "X-A : b\r\n"),
        headers("HTAB before colon", "X-A\t: b\r\n"),
        headers("obs-fold with SP", "X-A: b\r\n c\r\n"),
        headers("obs-fold with HTAB", "X-A: b\r\n\tc\r\n"),
        ParserBadRequest("whitespace before the first field", "GET / HTTP/1.1\r\n Host: a\r\n\r\n"),
        ParserBadRequest("bare LF after request line", "GET / HTTP/1.1\nHost: a\r\n\r\n"),
        ParserBadRequest("bare LF after a field", "GET / HTTP/1.1\r\nHost: a\n\r\n"),
        ParserBadRequest("bare LF ending the section", "GET / HTTP/1.1\r\nHost: a\r\n\n"),
        headers("bare CR in value", "X-A: b\rc\r\n"),
        headers("NUL in value", "X-A: b\u{00}c\r\n"),
        headers("control byte in value", "X-A: b\u{01}c\r\n"),
        headers("ESC in value", "X-A: \u{1B}[31m\r\n"),
        headers("DEL in value", "X-A: b\u{7F}\r\n"),
        headers("missing colon", "X-A b\r\n"),
        headers("empty name", ": b\r\n"),
        headers("invalid name character", "X(A): b\r\n"),
        headers("non-ASCII name", "X-é: b\r\n"),
        // Content-Length
        headers("Content-Length not a number", "Content-Length: abc\r\n"),
        headers("negative Content-Length", "Content-Length: -1\r\n"),
        headers("signed Content-Length", "Content-Length: +1\r\n"),
        headers("decimal Content-Length", "Content-Length: 1.0\r\n"),
        headers("hex Content-Length", "Content-Length: 0x10\r\n"),
        headers("empty Content-Length", "Content-Length:\r\n"),
        headers("Content-Length with inner space", "Content-Length: 1 2\r\n"),
        headers("different Content-Length values in one field", "Content-Length: 5, 6\r\n"),
        headers("Content-Length with empty element", "Content-Length: 5,\r\n"),
        headers("different Content-Length fields", "Content-Length: 5\r\nContent-Length: 6\r\n"),
        headers("Content-Length overflow", "Content-Length: 99999999999999999999999\r\n"),
        headers("Content-Length just over Int.max", "Content-Length: 9223372036854775808\r\n"),
        // Transfer-Encoding
        headers("Transfer-Encoding and Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"),
        headers("Content-Length and Transfer-Encoding", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
        ParserBadRequest("Transfer-Encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        headers("chunked not last", "Transfer-Encoding: chunked, gzip\r\n"),
        headers("chunked twice", "Transfer-Encoding: chunked, chunked\r\n"),
        headers("chunked twice across fields", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
        headers("empty Transfer-Encoding", "Transfer-Encoding:\r\n"),
        headers("Transfer-Encoding list of nothing", "Transfer-Encoding: , ,\r\n"),
        headers("chunked with parameters", "Transfer-Encoding: chunked;q=1\r\n"),
        headers("invalid coding", "Transfer-Encoding: chu\"nked\r\n"),
        headers("gzip", "Transfer-Encoding: gzip\r\n", .unsupportedTransferCoding),
        headers("gzip then chunked", "Transfer-Encoding: gzip, chunked\r\n", .unsupportedTransferCoding),
        headers("gzip field then chunked field", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n", .unsupportedTransferCoding),
        headers("identity", "Transfer-Encoding: identity\r\n", .unsupportedTransferCoding),
        // Host
        ParserBadRequest("HTTP/1.1 without Host", "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"),
        ParserBadRequest("two Host fields", "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"),
        ParserBadRequest("two Host fields in HTTP/1.0", "GET / HTTP/1.0\r\nHost: a\r\nHOST: a\r\n\r\n"),
        // Chunked body
        chunked("non-hex chunk size", "zz\r\n"),
        chunked("empty chunk size line", "\r\n"),
        chunked("17 hex digits", "00000000000000005\r\nhello\r\n0\r\n\r\n"),
        chunked("16 hex digits overflowing Int", "8000000000000000\r\n"),
        chunked("16 f", "ffffffffffffffff\r\n"),
        chunked("negative chunk size", "-5\r\nhello\r\n0\r\n\r\n"),
        chunked("0x prefix", "0x5\r\nhello\r\n0\r\n\r\n"),
        chunked("space before size", " 5\r\nhello\r\n0\r\n\r\n"),
        chunked("trailing space after size", "5 \r\nhello\r\n0\r\n\r\n"),
        chunked("empty extension", "5;\r\nhello\r\n0\r\n\r\n"),
        chunked("extension without value", "5;a=\r\nhello\r\n0\r\n\r\n"),
        chunked("unterminated quoted extension", "5;a=\"x\r\nhello\r\n0\r\n\r\n"),
        chunked("control byte in extension", "5;a=\"\u{01}\"\r\nhello\r\n0\r\n\r\n"),
        chunked("garbage after size", "5x\r\nhello\r\n0\r\n\r\n"),
        chunked("bare LF after size", "5\nhello\r\n0\r\n\r\n"),
        chunked("data longer than size", "5\r\nhelloXX\r\n0\r\n\r\n"),
        chunked("LF alone after data", "5\r\nhello\n0\r\n\r\n"),
        chunked("CR alone after data", "5\r\nhello\r0\r\n\r\n"),
        chunked("chunk line too long", "5;" + String(repeating: "a", count: 4100) + "\r\nhello\r\n0\r\n\r\n"),
        chunked("trailer obs-fold", "0\r\nX-A: b\r\n c\r\n\r\n"),
        chunked("trailer space before colon", "0\r\nX-A : b\r\n\r\n"),
        chunked("trailer bare LF", "0\r\nX-A: b\n\r\n"),
        chunked("trailer NUL", "0\r\nX-A: \u{00}\r\n\r\n"),
        chunked("bare LF ending trailers", "0\r\n\n"),
    ]
}

// MARK: - Tests

@Suite("HTTPRequestParser")
struct HTTPRequestParserTests {
    typealias Kit = HTTPParserTestKit

    @Test("corpus parses to the expected events", arguments: ParserRequestCase.all)
    func corpus(_ c: ParserRequestCase) {
        let outcome = Kit.parseRequests(c.raw)
        #expect(outcome.error == nil)
        #expect(outcome.events == c.expected)
    }

    @Test("every split into two pieces gives the same events", arguments: ParserRequestCase.all)
    func everyTwoPieceSplit(_ c: ParserRequestCase) {
        let whole = Kit.parseRequests(c.raw)
        for cut in 0...c.raw.count {
            let split = Kit.parseRequests(Kit.pieces(c.raw, cuts: [cut]))
            #expect(split == whole, "split at \(cut)")
            if split != whole { return }
        }
    }

    @Test("one byte at a time gives the same events", arguments: ParserRequestCase.all)
    func oneByteAtATime(_ c: ParserRequestCase) {
        #expect(Kit.parseRequests(Kit.bytewise(c.raw)) == Kit.parseRequests(c.raw))
    }

    @Test("every split into three pieces of the chunked request")
    func everyThreePieceSplit() {
        let raw = ParserRequestCase.chunked.raw
        for a in 0...raw.count {
            for b in a...raw.count {
                let outcome = Kit.parseRequests(Kit.pieces(raw, cuts: [a, b]))
                #expect(outcome.events == ParserRequestCase.chunked.expected && outcome.error == nil, "splits at \(a), \(b)")
                if outcome.events != ParserRequestCase.chunked.expected { return }
            }
        }
    }

    @Test("bad requests fail with their status and code", arguments: ParserBadRequest.all)
    func badRequest(_ c: ParserBadRequest) {
        let whole = Kit.parseRequests(c.raw)
        let expectedStatus: Int =
            switch c.kind {
            case .malformed: 400
            case .headersTooLarge: 431
            case .bodyTooLarge: 413
            case .unsupportedTransferCoding: 501
            case .versionNotSupported: 505
            }
        let expectedCode: String =
            switch c.kind {
            case .malformed: "malformed_request"
            case .headersTooLarge: "headers_too_large"
            case .bodyTooLarge: "body_too_large"
            case .unsupportedTransferCoding: "unsupported_transfer_coding"
            case .versionNotSupported: "version_not_supported"
            }
        #expect(whole.error?.kind == c.kind, "\(whole)")
        #expect(whole.error?.status.code == expectedStatus)
        #expect(whole.error?.code == expectedCode)
        #expect(whole.error?.message.isEmpty == false)
        // Fed byte by byte, the same error (after the same events).
        #expect(Kit.parseRequests(Kit.bytewise(c.raw)) == whole)
    }

    @Test("valid variants next to the bad ones are accepted")
    func lenientButValid() {
        for lines in [
            "Content-Length: 5\r\nContent-Length: 5\r\n", "Content-Length:5\r\n", "Content-Length: 5 , 5\r\n",
            "Transfer-Encoding: chunked\r\n", "Transfer-Encoding: CHUNKED\r\n", "Transfer-Encoding: , chunked\r\n",
            "X-A:b\r\n", "X-A: b\u{80}\u{FF}\r\n", "!#$%&'*+-.^_`|~09azAZ: v\r\n",
        ] {
            let raw = Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\n\(lines)\r\n") + (lines.lowercased().contains("chunked") ? Kit.bytes("5\r\nhello\r\n0\r\n\r\n") : Kit.bytes(lines.contains("Length") ? "hello" : ""))
            let outcome = Kit.parseRequests(raw)
            #expect(outcome.error == nil, "\(lines.debugDescription): \(outcome)")
            #expect(outcome.events.last == .end([]))
        }
        // HTTP/1.0 needs no Host; a method may be any token; targets in every form.
        for line in ["GET / HTTP/1.0", "M-SEARCH * HTTP/1.1\r\nHost: a", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443",
                     "GET http://example.com/a?b#c HTTP/1.1\r\nHost: example.com", "get /~user/%7E!$&'()*+,;=:@ HTTP/1.1\r\nHost: a"] {
            let outcome = Kit.parseRequests(Kit.bytes("\(line)\r\n\r\n"))
            #expect(outcome.error == nil, "\(line): \(outcome)")
            #expect(outcome.events.count == 2)
        }
        // The obs-text of a value is kept, decoded as UTF-8 (invalid sequences replaced).
        var parser = HTTPRequestParser()
        parser.append(Kit.bytes("GET / HTTP/1.1\r\nHost: a\r\nX-A: é\r\nX-B: ") + [0xFF] + Kit.bytes("\r\n\r\n"))
        guard case .head(let head, _)? = try? parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(head.headers["x-a"] == "é")
        #expect(head.headers["x-b"] == "\u{FFFD}")
    }

    @Test("the request line, method and version are parsed")
    func requestLineParts() throws {
        var parser = HTTPRequestParser()
        parser.append(Kit.bytes("DELETE /items/7?force=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"))
        guard case .head(let head, let framing)? = try parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(head.method == .delete)
        #expect(head.target == "/items/7?force=1")
        #expect(head.path == "/items/7")
        #expect(head.query == "force=1")
        #expect(head.version == .http1_1)
        #expect(head.keepAlive == false)
        #expect(framing == .none)
    }

    // MARK: Limits

    /// A request whose header section is exactly `size` bytes.
    static func request(headerSectionBytes size: Int) -> [UInt8] {
        let prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Fill: "
        let suffix = "\r\n\r\n"
        return Kit.bytes(prefix + String(repeating: "a", count: size - prefix.utf8.count - suffix.utf8.count) + suffix)
    }

    @Test("a header section of exactly maxHeaderBytes is accepted, one byte more is 431")
    func headerBytesLimit() {
        let limit = HTTPParserLimits().maxHeaderBytes
        #expect(limit == 16 * 1024)
        let exact = Self.request(headerSectionBytes: limit)
        #expect(exact.count == limit)
        #expect(Kit.parseRequests(exact).error == nil)
        #expect(Kit.parseRequests(Kit.bytewise(exact)).error == nil)
        let over = Self.request(headerSectionBytes: limit + 1)
        #expect(Kit.parseRequests(over).error?.kind == .headersTooLarge)
        #expect(Kit.parseRequests(over).error?.status.code == 431)
        #expect(Kit.parseRequests(Kit.bytewise(over)).error?.kind == .headersTooLarge)
        // Leading empty lines do not count.
        #expect(Kit.parseRequests(Kit.bytes("\r\n\r\n") + exact).error == nil)
    }

    @Test("431 before the end of the header section arrives, without buffering more than the limit")
    func headerBytesLimitSlowly() {
        for start in ["GET / HTTP/1.1\r\nHost: a\r\nX-Big: ", "GET /", "GET / HTTP/1.1\r\n"] {
            var parser = HTTPRequestParser()
            parser.append(Kit.bytes(start))
            var sent = start.utf8.count
            var failure: HTTPParseError?
            // Long field lines when the request line is complete (200 bytes: the count limit is not reached).
            let piece = start.hasSuffix("\r\n")
                ? Kit.bytes("X-H: " + String(repeating: "h", count: 193) + "\r\n") : [UInt8](repeating: 0x61, count: 100)
            while failure == nil && sent < 100_000 {
                parser.append(piece)
                sent += piece.count
                do {
                    let event = try parser.next()
                    #expect(event == nil)
                    #expect(parser.bufferedBytes <= 16 * 1024)
                } catch {
                    failure = error
                }
            }
            #expect(failure?.kind == .headersTooLarge, "\(start.debugDescription)")
            #expect(sent <= 16 * 1024 + piece.count)
        }
    }

    @Test("more than maxHeaderCount fields is 431")
    func headerCountLimit() {
        func request(fields: Int) -> [UInt8] {
            Kit.bytes("GET / HTTP/1.1\r\nHost: a\r\n" + (1..<fields).map { "X-\($0): v\r\n" }.joined() + "\r\n")
        }
        #expect(Kit.parseRequests(request(fields: 100)).error == nil)
        #expect(Kit.parseRequests(request(fields: 101)).error?.kind == .headersTooLarge)
        let small = HTTPParserLimits(maxHeaderCount: 3)
        #expect(Kit.parseRequests(request(fields: 3), limits: small).error == nil)
        #expect(Kit.parseRequests(request(fields: 4), limits: small).error?.status.code == 431)
    }

    @Test("trailers count towards maxHeaderBytes and maxHeaderCount")
    func trailerLimits() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        let limits = HTTPParserLimits(maxHeaderBytes: 100, maxHeaderCount: 2)
        // Head + "X-T: " + value + CRLF + CRLF; the chunk lines are body, not counted.
        let room = 100 - head.utf8.count - 9
        let fits = Kit.bytes(head + "1\r\nx\r\n0\r\nX-T: " + String(repeating: "t", count: room) + "\r\n\r\n")
        #expect(Kit.parseRequests(fits, limits: limits).events.last == .end(["X-T: " + String(repeating: "t", count: room)]))
        let over = Kit.bytes(head + "1\r\nx\r\n0\r\nX-T: " + String(repeating: "t", count: room + 1) + "\r\n\r\n")
        #expect(Kit.parseRequests(over, limits: limits).error?.kind == .headersTooLarge)
        #expect(Kit.parseRequests(Kit.bytewise(over), limits: limits).error?.kind == .headersTooLarge)
        let many = Kit.bytes(head + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n")
        #expect(Kit.parseRequests(many, limits: limits).error?.kind == .headersTooLarge)
    }

    @Test("Content-Length above the body limit is 413 right after the head")
    func contentLengthLimit() throws {
        var parser = HTTPRequestParser()
        parser.append(Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \((1 << 20) + 1)\r\n\r\n"))
        guard case .head(_, .length(let n))? = try parser.next() else {
            Issue.record("no head")
            return
        }
        #expect(n == (1 << 20) + 1)
        #expect(throws: HTTPParseError.self) { try parser.next() }
        do {
            _ = try parser.next()
        } catch {
            #expect(error.kind == .bodyTooLarge)
            #expect(error.status.code == 413)
            #expect(error.code == "body_too_large")
        }

        // Exactly the default limit is fine.
        parser = HTTPRequestParser()
        parser.append(Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(1 << 20)\r\n\r\n"))
        _ = try parser.next()
        #expect(try parser.next() == nil)
        parser.append([UInt8](repeating: 7, count: 1 << 20))
        var total = 0
        while let event = try parser.next() {
            if case .body(let b) = event { total += b.count }
        }
        #expect(total == 1 << 20)

        // A limit set by the caller after the head.
        let ten = Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789")
        let eleven = Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n0123456789A")
        #expect(Kit.parseRequests(ten, bodyLimit: 10).error == nil)
        #expect(Kit.parseRequests(eleven, bodyLimit: 10).error?.kind == .bodyTooLarge)
        #expect(Kit.parseRequests(eleven, bodyLimit: 10).events.count == 1)  // nothing of the body
        #expect(Kit.parseRequests(eleven, limits: HTTPParserLimits(defaultMaxBodyBytes: 10)).error?.kind == .bodyTooLarge)
        // A larger limit than the default.
        let big = Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \(2 << 20)\r\n\r\n")
        #expect(Kit.parseRequests(big, bodyLimit: 4 << 20).error == nil)
    }

    @Test("a chunked body over the limit is 413 once its chunks exceed it")
    func chunkedLimit() {
        let head = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        let fits = Kit.bytes(head + "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n")
        #expect(Kit.parseRequests(fits, bodyLimit: 10).error == nil)
        let over = Kit.bytes(head + "5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n")
        let outcome = Kit.parseRequests(over, bodyLimit: 10)
        #expect(outcome.error?.kind == .bodyTooLarge)
        #expect(outcome.events.last == .body(Kit.bytes("hello")))
        #expect(Kit.parseRequests(Kit.bytewise(over), bodyLimit: 10) == outcome)
        // Default limit: one huge chunk is refused at its size line, before its data.
        let huge = Kit.bytes(head + "100001\r\n")
        #expect(Kit.parseRequests(huge).error?.kind == .bodyTooLarge)
        #expect(Kit.parseRequests(Kit.bytes(head + "100000\r\n")).error == nil)
    }

    @Test("the body limit goes back to the default after each request")
    func bodyLimitResets() throws {
        var parser = HTTPRequestParser(limits: HTTPParserLimits(defaultMaxBodyBytes: 5))
        parser.append(Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n12345678"))
        parser.append(Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 8\r\n\r\n12345678"))
        guard case .head? = try parser.next() else { throw HTTPParseError.malformed("no head") }
        parser.setBodyLimit(8)
        guard case .body? = try parser.next(), case .end? = try parser.next(), case .head? = try parser.next() else {
            throw HTTPParseError.malformed("unexpected event")
        }
        do {
            _ = try parser.next()
            Issue.record("no error")
        } catch {
            #expect(error.kind == .bodyTooLarge)
        }
    }

    // MARK: Streaming and state

    @Test("body bytes are handed out as soon as they arrive")
    func incrementalBody() throws {
        var parser = HTTPRequestParser()
        parser.append(Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n012"))
        guard case .head(_, .length(10))? = try parser.next() else { throw HTTPParseError.malformed("no head") }
        guard case .body(let first)? = try parser.next() else { throw HTTPParseError.malformed("no body") }
        #expect(first == Kit.bytes("012"))
        #expect(try parser.next() == nil)
        parser.append(Kit.bytes("3456789GET"))
        guard case .body(let second)? = try parser.next() else { throw HTTPParseError.malformed("no body") }
        #expect(second == Kit.bytes("3456789"))
        guard case .end? = try parser.next() else { throw HTTPParseError.malformed("no end") }
        #expect(parser.bufferedBytes == 3)
        #expect(try parser.next() == nil)

        var chunked = HTTPRequestParser()
        chunked.append(Kit.bytes("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nab"))
        guard case .head(_, .chunked)? = try chunked.next() else { throw HTTPParseError.malformed("no head") }
        guard case .body(let piece)? = try chunked.next() else { throw HTTPParseError.malformed("no body") }
        #expect(piece == Kit.bytes("ab"))
        #expect(try chunked.next() == nil)
    }

    @Test("boundary and started flags follow the request")
    func stateFlags() throws {
        var parser = HTTPRequestParser()
        #expect(parser.isAtRequestBoundary && !parser.hasStartedRequest && parser.bufferedBytes == 0)
        parser.append(Kit.bytes("\r\n"))
        #expect(!parser.isAtRequestBoundary && parser.hasStartedRequest)
        #expect(try parser.next() == nil)
        #expect(parser.isAtRequestBoundary && !parser.hasStartedRequest)  // an empty line is no request
        parser.append(Kit.bytes("PO"))
        #expect(try parser.next() == nil)
        #expect(!parser.isAtRequestBoundary && parser.hasStartedRequest && parser.bufferedBytes == 2)
        parser.append(Kit.bytes("ST / HTTP/1.1\r\nHost: a\r\n"))
        #expect(try parser.next() == nil)
        #expect(!parser.isAtRequestBoundary && parser.hasStartedRequest && parser.bufferedBytes == 0)
        parser.append(Kit.bytes("Content-Length: 2\r\n\r\n"))
        guard case .head? = try parser.next() else { throw HTTPParseError.malformed("no head") }
        #expect(!parser.isAtRequestBoundary && !parser.hasStartedRequest && parser.isReadingBody)
        parser.append(Kit.bytes("okGET / HTTP/1.1\r\n"))
        guard case .body? = try parser.next(), case .end? = try parser.next() else { throw HTTPParseError.malformed("no end") }
        #expect(!parser.isAtRequestBoundary && parser.hasStartedRequest && !parser.isReadingBody)
        #expect(parser.bufferedBytes == 16)
        #expect(try parser.next() == nil)
        parser.append(Kit.bytes("Host: b\r\n\r\n"))
        guard case .head? = try parser.next(), case .end? = try parser.next() else { throw HTTPParseError.malformed("no end") }
        #expect(parser.isAtRequestBoundary && !parser.hasStartedRequest)
    }

    @Test("after an upgrade request the following bytes can be taken")
    func takeBufferedBytes() throws {
        var parser = HTTPRequestParser()
        let raw = Kit.bytes("GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n") + [0x81, 0x85, 1, 2, 3, 4]
        raw.withUnsafeBytes { parser.append($0) }
        guard case .head? = try parser.next(), case .end? = try parser.next() else { throw HTTPParseError.malformed("no end") }
        #expect(parser.takeBufferedBytes() == [0x81, 0x85, 1, 2, 3, 4])
        #expect(parser.bufferedBytes == 0 && parser.isAtRequestBoundary)
    }

    @Test("an error is sticky")
    func stickyError() {
        var parser = HTTPRequestParser()
        parser.append(Kit.bytes("GET / HTTP/9.9\r\n\r\n"))
        var first: HTTPParseError?
        do { _ = try parser.next() } catch { first = error }
        #expect(first?.kind == .versionNotSupported)
        #expect(first?.status == .httpVersionNotSupported)
        parser.append(Kit.bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n"))
        for _ in 0..<3 {
            do {
                _ = try parser.next()
                Issue.record("no error")
            } catch {
                #expect(error == first)
            }
        }
        #expect(!parser.isAtRequestBoundary)
    }

    @Test("a long pipelined stream in uneven pieces (buffer compaction)")
    func longPipeline() throws {
        var one: [UInt8] = []
        var expected = HTTPParserTestKit.Outcome()
        for i in 0..<300 {
            let c = [ParserRequestCase.get, ParserRequestCase.postLength, ParserRequestCase.chunked, ParserRequestCase.fieldValues][i % 4]
            one += c.raw
            for e in c.expected { expected.add(e) }
        }
        var rng = Kit.SeededGenerator(seed: 42)
        var cuts: [Int] = []
        var at = 0
        while true {
            at += Int.random(in: 1...9000, using: &rng)
            if at >= one.count { break }
            cuts.append(at)
        }
        #expect(Kit.parseRequests(Kit.pieces(one, cuts: cuts)) == expected)
        #expect(Kit.parseRequests(one) == expected)
    }

    // MARK: Internals

    @Test("token bytes are exactly tchar")
    func tokenTable() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for b in 0...255 {
            #expect(HTTP1Bytes.isToken(UInt8(b)) == tchar.contains(UInt8(b)), "byte \(b)")
        }
    }

    @Test("chunk size lines")
    func chunkSizeLines() {
        func size(_ s: String) -> Int? {
            let bytes = Kit.bytes(s)
            return bytes.withUnsafeBufferPointer { try? HTTP1BodyDecoder.parseChunkSizeLine($0) }
        }
        #expect(size("0") == 0)
        #expect(size("a") == 10)
        #expect(size("FF") == 255)
        #expect(size("7fffffffffffffff") == Int.max)
        #expect(size("000000000000000f") == 15)
        #expect(size("5;a") == 5)
        #expect(size("5;a=b;c=\"d e\\\"f\"") == 5)
        #expect(size("5 ;\ta = \"\" ; b") == 5)
        #expect(size("5;a=\"\u{80}\"") == 5)
        for bad in ["", " ", "g", "5 ", "5;", "5;a ", "5;a=", "5;=b", "5;a=b c", "5;a=\"b", "5;a=\"\\", "5,a", "+5", "5\t"] {
            #expect(size(bad) == nil, "\(bad.debugDescription)")
        }
    }

    // MARK: Fuzz

    @Test("2,000 seeded random mutations never crash and parse the same in pieces")
    func fuzz() {
        let bases = ParserRequestCase.all.map(\.raw) + ParserBadRequest.all.prefix(20).map(\.raw)
        var rng = Kit.SeededGenerator(seed: 0xB01D_FACE)
        var parsed = 0
        var failed = 0
        for iteration in 0..<2000 {
            let base = bases[iteration % bases.count]
            let input = Kit.mutate(base, using: &rng)
            let whole = Kit.parseRequests(input)
            var cuts = (0..<Int.random(in: 1...3, using: &rng)).map { _ in Int.random(in: 0...input.count, using: &rng) }
            cuts.sort()
            let split = Kit.parseRequests(Kit.pieces(input, cuts: cuts))
            #expect(split == whole, "iteration \(iteration): \(input) cut at \(cuts)")
            if whole.error == nil { parsed += 1 } else { failed += 1 }
            if iteration % 10 == 0 {
                #expect(Kit.parseRequests(Kit.bytewise(input)) == whole, "iteration \(iteration) byte by byte")
            }
        }
        #expect(parsed > 100)
        #expect(failed > 100)
    }
}
