import Testing
@testable import BulkheadHTTP

extension HTTPParserTestKit {
    /// Feeds `chunks` to a response parser, draining events after each, then (with `eof`)
    /// calls `finish()` and drains again. `toHEAD[k]` is passed to `expectResponse` before the
    /// k-th final response (false beyond the list).
    static func parseResponses(
        _ chunks: [ArraySlice<UInt8>], toHEAD: [Bool] = [], eof: Bool = true, bodyLimit: Int? = nil,
        limits: HTTPParserLimits = .init(), sourceLocation: SourceLocation = #_sourceLocation
    ) -> Outcome {
        var parser = HTTPResponseParser(limits: limits)
        var outcome = Outcome()
        var finalResponses = 0
        var informational = false
        parser.expectResponse(toHEAD: toHEAD.first ?? false)

        func drain(_ first: HTTPResponseParseEvent?) throws(HTTPParseError) {
            var event = first
            while let e = event {
                switch e {
                case .head(let head, let framing):
                    outcome.add(.head(describe(head, framing)))
                    informational = head.isInformational
                    if let bodyLimit { parser.setBodyLimit(bodyLimit) }
                case .body(let b):
                    #expect(!b.isEmpty, "empty body event", sourceLocation: sourceLocation)
                    outcome.add(.body(b))
                case .end(let trailers):
                    outcome.add(.end(fields(trailers)))
                    if !informational {
                        finalResponses += 1
                        parser.expectResponse(toHEAD: finalResponses < toHEAD.count ? toHEAD[finalResponses] : false)
                    }
                }
                event = try parser.next()
            }
        }

        do {
            for chunk in chunks {
                parser.append(Array(chunk))
                try drain(try parser.next())
            }
            if eof { try drain(try parser.finish()) }
        } catch {
            outcome.error = error
            #expect(throws: error, sourceLocation: sourceLocation) { try parser.next() }
        }
        return outcome
    }

    static func parseResponses(
        _ raw: [UInt8], toHEAD: [Bool] = [], eof: Bool = true, bodyLimit: Int? = nil,
        limits: HTTPParserLimits = .init(), sourceLocation: SourceLocation = #_sourceLocation
    ) -> Outcome {
        parseResponses([raw[...]], toHEAD: toHEAD, eof: eof, bodyLimit: bodyLimit, limits: limits, sourceLocation: sourceLocation)
    }
}

struct ParserResponseCase: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: [UInt8]
    var toHEAD: [Bool] = []
    var expected: [HTTPParserTestKit.Event]
    var testDescription: String { name }

    static func b(_ s: String) -> [UInt8] { HTTPParserTestKit.bytes(s) }

    static let length = ParserResponseCase(
        name: "Content-Length",
        raw: b("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
        expected: [
            .head("HTTP/1.1 200 \"OK\" [\"Content-Length: 5\", \"Content-Type: text/plain\"] length(5)"),
            .body(b("hello")), .end([]),
        ])

    static let chunked = ParserResponseCase(
        name: "chunked with trailers",
        raw: b(
            "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"
                + "0\r\nExpires: never\r\n\r\n"),
        expected: [
            .head("HTTP/1.1 201 \"Created\" [\"Transfer-Encoding: chunked\"] chunked"),
            .body(b("Wikipedia in\r\n\r\nchunks.")), .end(["Expires: never"]),
        ])

    static let untilClose = ParserResponseCase(
        name: "until close",
        raw: b("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nsome body\r\n\r\nbytes"),
        expected: [
            .head("HTTP/1.0 200 \"OK\" [\"Content-Type: text/plain\"] untilClose"),
            .body(b("some body\r\n\r\nbytes")), .end([]),
        ])

    static let informational = ParserResponseCase(
        name: "1xx then 200",
        raw: b(
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        expected: [
            .head("HTTP/1.1 100 \"Continue\" [] none"), .end([]),
            .head("HTTP/1.1 103 \"Early Hints\" [\"Link: </s.css>; rel=preload\"] none"), .end([]),
            .head("HTTP/1.1 200 \"OK\" [\"Content-Length: 2\"] length(2)"), .body(b("ok")), .end([]),
        ])

    static let head = ParserResponseCase(
        name: "response to HEAD, then to GET",
        raw: b("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n"),
        toHEAD: [true, false],
        expected: [
            .head("HTTP/1.1 200 \"OK\" [\"Content-Length: 1234\"] none"), .end([]),
            .head("HTTP/1.1 200 \"OK\" [\"Transfer-Encoding: chunked\"] chunked"), .body(b("hi")), .end([]),
        ])

    static let headAfterContinue = ParserResponseCase(
        name: "HEAD survives a 1xx",
        raw: b("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
        toHEAD: [true],
        expected: [
            .head("HTTP/1.1 100 \"Continue\" [] none"), .end([]),
            .head("HTTP/1.1 200 \"OK\" [\"Transfer-Encoding: chunked\"] none"), .end([]),
        ])

    static let noContent = ParserResponseCase(
        name: "204 and 304 have no body",
        raw: b(
            "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\nETag: \"x\"\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        expected: [
            .head("HTTP/1.1 204 \"No Content\" [] none"), .end([]),
            .head("HTTP/1.1 304 \"Not Modified\" [\"Content-Length: 50\", \"ETag: \\\"x\\\"\"] none"), .end([]),
            .head("HTTP/1.1 200 \"OK\" [\"Content-Length: 0\"] length(0)"), .end([]),
        ])

    static let reasons = ParserResponseCase(
        name: "empty, missing and unusual reason phrases",
        raw: b(
            "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\nHTTP/1.1 404\r\nContent-Length: 0\r\n\r\n"
                + "HTTP/1.1 599 Très \tbien!\r\nContent-Length: 0\r\n\r\n"),
        expected: [
            .head("HTTP/1.1 200 \"\" [\"Content-Length: 0\"] length(0)"), .end([]),
            .head("HTTP/1.1 404 \"\" [\"Content-Length: 0\"] length(0)"), .end([]),
            .head("HTTP/1.1 599 \"Très \\tbien!\" [\"Content-Length: 0\"] length(0)"), .end([]),
        ])

    static let gzipUntilClose = ParserResponseCase(
        name: "a coding other than chunked last reads until close",
        raw: b("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n\u{1F}\u{7F}data"),
        expected: [
            .head("HTTP/1.1 200 \"OK\" [\"Transfer-Encoding: gzip\"] untilClose"), .body(b("\u{1F}\u{7F}data")), .end([]),
        ])

    static let pipelined = ParserResponseCase(
        name: "pipelined: length, chunked, 204, until close",
        raw: length.raw + chunked.raw + b("\r\nHTTP/1.1 204 No Content\r\n\r\n") + untilClose.raw,
        expected: length.expected + chunked.expected + [.head("HTTP/1.1 204 \"No Content\" [] none"), .end([])]
            + untilClose.expected)

    static let all: [ParserResponseCase] = [
        length, chunked, untilClose, informational, head, headAfterContinue, noContent, reasons, gzipUntilClose, pipelined,
    ]
}

struct ParserBadResponse: Sendable, CustomTestStringConvertible {
    var name: String
    var raw: [UInt8]
    var kind: HTTPParseError.Kind = .malformed
    var testDescription: String { name }

    init(_ name: String, _ raw: String, _ kind: HTTPParseError.Kind = .malformed) {
        self.name = name
        self.raw = HTTPParserTestKit.bytes(raw)
        self.kind = kind
    }

    static let all: [ParserBadResponse] = [
        ParserBadResponse("two-digit status", "HTTP/1.1 20 OK\r\n\r\n"),
        ParserBadResponse("four-digit status", "HTTP/1.1 2000 OK\r\n\r\n"),
        ParserBadResponse("status below 100", "HTTP/1.1 099 Odd\r\n\r\n"),
        ParserBadResponse("non-numeric status", "HTTP/1.1 abc OK\r\n\r\n"),
        ParserBadResponse("no space after version", "HTTP/1.1200 OK\r\n\r\n"),
        ParserBadResponse("two spaces after version", "HTTP/1.1  200 OK\r\n\r\n"),
        ParserBadResponse("not HTTP", "ICY 200 OK\r\n\r\n"),
        ParserBadResponse("version only", "HTTP/1.1\r\n\r\n"),
        ParserBadResponse("HTTP/2.0", "HTTP/2.0 200 OK\r\n\r\n", .versionNotSupported),
        ParserBadResponse("control byte in reason", "HTTP/1.1 200 O\u{01}K\r\n\r\n"),
        ParserBadResponse("bare LF", "HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
        ParserBadResponse("space before colon", "HTTP/1.1 200 OK\r\nContent-Length : 0\r\n\r\n"),
        ParserBadResponse("obs-fold", "HTTP/1.1 200 OK\r\nX-A: b\r\n c\r\nContent-Length: 0\r\n\r\n"),
        ParserBadResponse("invalid Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"),
        ParserBadResponse("conflicting Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
        ParserBadResponse("Transfer-Encoding and Content-Length", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n0\r\n\r\n"),
        ParserBadResponse("Transfer-Encoding in HTTP/1.0", "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ParserBadResponse("chunked twice", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n"),
        ParserBadResponse("bad chunk size", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n"),
        ParserBadResponse("missing CRLF after chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"),
        ParserBadResponse("truncated head", "HTTP/1.1 200 OK\r\nContent-Len"),
        ParserBadResponse("truncated status line", "HTTP/1.1 2"),
        ParserBadResponse("truncated length body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"),
        ParserBadResponse("truncated chunked body", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"),
        ParserBadResponse("truncated trailers", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-A: b\r\n"),
        ParserBadResponse("truncated after chunk data", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello"),
    ]
}

@Suite("HTTPResponseParser")
struct HTTPResponseParserTests {
    typealias Kit = HTTPParserTestKit

    @Test("each framing parses to the expected events", arguments: ParserResponseCase.all)
    func corpus(_ c: ParserResponseCase) {
        let outcome = Kit.parseResponses(c.raw, toHEAD: c.toHEAD)
        #expect(outcome.error == nil)
        #expect(outcome.events == c.expected)
    }

    @Test("every split into two pieces and one byte at a time give the same events", arguments: ParserResponseCase.all)
    func splits(_ c: ParserResponseCase) {
        for cut in 0...c.raw.count {
            let outcome = Kit.parseResponses(Kit.pieces(c.raw, cuts: [cut]), toHEAD: c.toHEAD)
            #expect(outcome.error == nil && outcome.events == c.expected, "split at \(cut): \(outcome)")
            if outcome.events != c.expected { return }
        }
        #expect(Kit.parseResponses(Kit.bytewise(c.raw), toHEAD: c.toHEAD).events == c.expected)
    }

    @Test("bad responses are rejected", arguments: ParserBadResponse.all)
    func badResponse(_ c: ParserBadResponse) {
        let outcome = Kit.parseResponses(c.raw)
        #expect(outcome.error?.kind == c.kind, "\(outcome)")
        #expect(Kit.parseResponses(Kit.bytewise(c.raw)) == outcome)
    }

    @Test("an until-close body ends only at finish()")
    func untilCloseNeedsFinish() throws {
        var parser = HTTPResponseParser()
        parser.append(Kit.bytes("HTTP/1.1 200 OK\r\n\r\nabc"))
        guard case .head(_, .untilClose)? = try parser.next() else { throw HTTPParseError.malformed("no head") }
        guard case .body(let b)? = try parser.next() else { throw HTTPParseError.malformed("no body") }
        #expect(b == Kit.bytes("abc"))
        var event = try parser.next()
        #expect(event == nil)
        #expect(!parser.isAtResponseBoundary)
        parser.append(Kit.bytes("def"))
        event = try parser.finish()
        guard case .body(let rest)? = event else { throw HTTPParseError.malformed("no body") }
        #expect(rest == Kit.bytes("def"))
        guard case .end? = try parser.next() else { throw HTTPParseError.malformed("no end") }
        event = try parser.next()
        #expect(event == nil)
        #expect(parser.isAtResponseBoundary)
    }

    @Test("EOF between responses is clean")
    func cleanEOF() throws {
        var parser = HTTPResponseParser()
        #expect(parser.isAtResponseBoundary)
        var event = try parser.finish()
        #expect(event == nil)
        parser = HTTPResponseParser()
        parser.append(Kit.bytes("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"))
        guard case .head? = try parser.next(), case .body? = try parser.next(), case .end? = try parser.next() else {
            throw HTTPParseError.malformed("unexpected event")
        }
        #expect(parser.isAtResponseBoundary)
        event = try parser.finish()
        #expect(event == nil)
    }

    @Test("the body limit of a response")
    func bodyLimit() {
        let length = Kit.bytes("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        #expect(Kit.parseResponses(length, bodyLimit: 5).error == nil)
        #expect(Kit.parseResponses(length, bodyLimit: 4).error?.kind == .bodyTooLarge)
        let chunked = Kit.bytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n")
        #expect(Kit.parseResponses(chunked, bodyLimit: 5).error == nil)
        #expect(Kit.parseResponses(chunked, bodyLimit: 4).error?.kind == .bodyTooLarge)
        let untilClose = Kit.bytes("HTTP/1.1 200 OK\r\n\r\nhello")
        #expect(Kit.parseResponses(untilClose, bodyLimit: 5).error == nil)
        #expect(Kit.parseResponses(untilClose, bodyLimit: 4).error?.kind == .bodyTooLarge)
        #expect(Kit.parseResponses(Kit.bytewise(untilClose), bodyLimit: 4).error?.kind == .bodyTooLarge)
        // Unlimited by default.
        let big = Kit.bytes("HTTP/1.1 200 OK\r\nContent-Length: \(8 << 20)\r\n\r\n")
        #expect(Kit.parseResponses(big, eof: false).error == nil)
    }

    @Test("header limits apply to responses")
    func headerLimits() {
        let limits = HTTPParserLimits(maxHeaderBytes: 64, maxHeaderCount: 2)
        #expect(Kit.parseResponses(Kit.bytes("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"), limits: limits).error == nil)
        #expect(Kit.parseResponses(Kit.bytes("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), limits: limits).error?.kind == .headersTooLarge)
        let long = Kit.bytes("HTTP/1.1 200 OK\r\nA: " + String(repeating: "x", count: 60))
        #expect(Kit.parseResponses(long, eof: false, limits: limits).error?.kind == .headersTooLarge)
    }

    @Test("after 101 Switching Protocols the new protocol's bytes can be taken")
    func switchingProtocols() throws {
        var parser = HTTPResponseParser()
        parser.append(Kit.bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n") + [0x81, 0x02, 0x68, 0x69])
        guard case .head(let head, .none)? = try parser.next() else { throw HTTPParseError.malformed("no head") }
        #expect(head.status == .switchingProtocols)
        #expect(head.isInformational)
        guard case .end? = try parser.next() else { throw HTTPParseError.malformed("no end") }
        #expect(parser.takeBufferedBytes() == [0x81, 0x02, 0x68, 0x69])
        #expect(parser.isAtResponseBoundary)
    }

    @Test("keep-alive of response heads")
    func keepAlive() throws {
        func head(_ raw: String) throws -> HTTPResponseHead {
            var parser = HTTPResponseParser()
            parser.append(Kit.bytes(raw))
            guard case .head(let h, _)? = try parser.next() else { throw HTTPParseError.malformed("no head") }
            return h
        }
        #expect(try head("HTTP/1.1 200 OK\r\n\r\n").keepAlive)
        #expect(try !head("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n").keepAlive)
        #expect(try !head("HTTP/1.0 200 OK\r\n\r\n").keepAlive)
        #expect(try head("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n").keepAlive)
    }

    @Test("1,000 seeded random mutations never crash and parse the same in pieces")
    func fuzz() {
        let bases = ParserResponseCase.all.map(\.raw)
        var rng = Kit.SeededGenerator(seed: 0x5EED_0F_2024)
        for iteration in 0..<1000 {
            let input = Kit.mutate(bases[iteration % bases.count], using: &rng)
            let whole = Kit.parseResponses(input)
            var cuts = (0..<Int.random(in: 1...3, using: &rng)).map { _ in Int.random(in: 0...input.count, using: &rng) }
            cuts.sort()
            #expect(Kit.parseResponses(Kit.pieces(input, cuts: cuts)) == whole, "iteration \(iteration): \(input) cut at \(cuts)")
        }
    }
}
