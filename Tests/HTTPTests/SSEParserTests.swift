import Testing
import BulkheadHTTPClient

// ServerSentEventParser against the WHATWG EventSource parsing rules
// (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).

private func events(_ text: String, chunks: Int = 1) throws -> [ServerSentEvent] {
    try events(bytes: Array(text.utf8), chunkSize: chunks == 1 ? Int.max : chunks)
}

/// Feeds `bytes` in pieces of `chunkSize` bytes and collects every dispatched event.
private func events(bytes: [UInt8], chunkSize: Int = Int.max) throws -> [ServerSentEvent] {
    var parser = ServerSentEventParser()
    var out: [ServerSentEvent] = []
    var i = 0
    while i < bytes.count {
        let end = bytes.count - i > chunkSize ? i + chunkSize : bytes.count
        out += try parser.parse(bytes[i..<end])
        i = end
    }
    parser.finish()
    return out
}

@Suite("ServerSentEventParser")
struct SSEParserTests {
    @Test func singleEvent() throws {
        #expect(try events("data: hello\n\n") == [ServerSentEvent(data: "hello")])
    }

    @Test func multiLineDataIsJoinedWithLineFeeds() throws {
        let got = try events("data: YHOO\ndata: +2\ndata: 10\n\n")
        #expect(got == [ServerSentEvent(data: "YHOO\n+2\n10")])
    }

    @Test func specExampleWithCommentsAndIDs() throws {
        // The spec's example: "second event" resets the id with a bare "id" line; the third
        // data value keeps its second leading space.
        let text = ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n"
        let got = try events(text + "\n")
        #expect(got == [
            ServerSentEvent(id: "1", data: "first event"),
            ServerSentEvent(id: nil, data: "second event"),
            ServerSentEvent(id: nil, data: " third event"),
        ])
    }

    @Test func specExampleEmptyDataAndUnterminatedBlock() throws {
        // "data" alone is an empty data line; two of them give "\n"; the last block has no blank line.
        let got = try events("data\n\ndata\ndata\n\ndata:")
        #expect(got == [ServerSentEvent(data: ""), ServerSentEvent(data: "\n")])
    }

    @Test func spaceAfterColonIsOptional() throws {
        #expect(try events("data:test\n\ndata: test\n\n") == [ServerSentEvent(data: "test"), ServerSentEvent(data: "test")])
    }

    @Test func lineEndingsCRLFAndCRAndLF() throws {
        let crlf = try events("event: a\r\ndata: 1\r\n\r\n")
        let cr = try events("event: a\rdata: 1\r\r")
        let lf = try events("event: a\ndata: 1\n\n")
        let expected = [ServerSentEvent(event: "a", data: "1")]
        #expect(crlf == expected)
        #expect(cr == expected)
        #expect(lf == expected)
        // Mixed in one stream.
        #expect(try events("data: x\r\ndata: y\rdata: z\n\r\n").map(\.data) == ["x\ny\nz"])
    }

    @Test func crlfSplitAcrossChunksCountsOnce() throws {
        var parser = ServerSentEventParser()
        var got = try parser.parse(Array("data: a\r".utf8))
        got += try parser.parse(Array("\ndata: b\r".utf8))
        got += try parser.parse(Array("\n\r".utf8))
        got += try parser.parse(Array("\n".utf8))
        #expect(got == [ServerSentEvent(data: "a\nb")])
    }

    @Test func commentsAreIgnored() throws {
        let got = try events(": keep-alive\n:\ndata: x\n: between\ndata: y\n\n: trailing\n\n")
        #expect(got == [ServerSentEvent(data: "x\ny")])
    }

    @Test func eventTypeAppliesToOneEvent() throws {
        let got = try events("event: delta\ndata: 1\n\ndata: 2\n\nevent:\ndata: 3\n\n")
        #expect(got.map(\.event) == ["delta", "message", "message"])
    }

    @Test func idPersistsAcrossEventsAndEmptyIDResets() throws {
        let got = try events("id: 7\ndata: a\n\ndata: b\n\nid:\ndata: c\n\n")
        #expect(got.map(\.id) == ["7", "7", nil])
    }

    @Test func idContainingNULIsIgnored() throws {
        var bytes = Array("id: 1\ndata: a\n\nid: 2".utf8)
        bytes.append(0)
        bytes += Array("x\ndata: b\n\n".utf8)
        let got = try events(bytes: bytes)
        #expect(got.map(\.id) == ["1", "1"])
    }

    @Test func retryAcceptsDigitsOnly() throws {
        var parser = ServerSentEventParser()
        let got = try parser.parse(Array("retry: 3000\ndata: a\n\nretry: 10a\ndata: b\n\nretry: -5\nretry:\ndata: c\n\n".utf8))
        #expect(got.map(\.retry) == [3000, nil, nil])
        #expect(parser.reconnectionTime == 3000)
        // A retry-only block changes the reconnection time without dispatching.
        #expect(try parser.parse(Array("retry: 50\n\n".utf8)).isEmpty)
        #expect(parser.reconnectionTime == 50)
    }

    @Test func noDataMeansNoDispatch() throws {
        #expect(try events("event: ping\n\nid: 3\n\n: comment\n\n").isEmpty)
        // ... but the id set by a block without data is the last event ID afterwards.
        #expect(try events("id: 3\n\ndata: x\n\n") == [ServerSentEvent(id: "3", data: "x")])
    }

    @Test func noTrailingBlankLineNoDispatch() throws {
        #expect(try events("data: complete\n\ndata: incomplete\n").map(\.data) == ["complete"])
        #expect(try events("data: incomplete").isEmpty)
    }

    @Test func fieldWithoutColonAndUnknownFields() throws {
        let got = try events("data\nfoo: bar\nDATA: ignored (case-sensitive)\ndata: x\n\n")
        #expect(got == [ServerSentEvent(data: "\nx")])
    }

    @Test func byteOrderMarkAtStartIsSkippedOnce() throws {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        #expect(try events(bytes: bom + Array("data: a\n\n".utf8)) == [ServerSentEvent(data: "a")])
        // Split over chunks.
        #expect(try events(bytes: bom + Array("data: a\n\n".utf8), chunkSize: 1) == [ServerSentEvent(data: "a")])
        // A second BOM is data: the line's field name becomes "\u{FEFF}data", an unknown field.
        #expect(try events(bytes: bom + bom + Array("data: a\n\n".utf8)).isEmpty)
        // A BOM later in the stream is kept in values.
        #expect(try events(bytes: Array("data: ".utf8) + bom + Array("x\n\n".utf8)) == [ServerSentEvent(data: "\u{FEFF}x")])
    }

    @Test func splitAcrossChunksAtEveryPosition() throws {
        let text = "event: delta\r\nid: 42\r\ndata: {\"a\":\r\ndata:  1}\r\n\r\n: c\ndata: é€😀\n\n"
        let whole = try events(text)
        #expect(whole == [
            ServerSentEvent(id: "42", event: "delta", data: "{\"a\":\n 1}"),
            ServerSentEvent(id: "42", data: "é€😀"),
        ])
        for size in 1...9 {
            #expect(try events(text, chunks: size) == whole, "chunk size \(size)")
        }
    }

    @Test func invalidUTF8IsReplaced() throws {
        let got = try events(bytes: Array("data: a".utf8) + [0xFF] + Array("b\n\n".utf8))
        #expect(got.map(\.data) == ["a\u{FFFD}b"])
    }

    @Test func oversizedEventThrows() throws {
        var parser = ServerSentEventParser(maxEventBytes: 16)
        #expect(try parser.parse(Array("data: 0123456789\n\n".utf8)).count == 1)
        #expect(throws: HTTPClientError.self) {
            _ = try parser.parse(Array("data: 0123456789\ndata: 0123456789\n\n".utf8))
        }
    }

    @Test func finishDiscardsPendingEvent() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.parse(Array("data: partial\n".utf8)).isEmpty)
        parser.finish()
        #expect(try parser.parse(Array("data: next\n\n".utf8)) == [ServerSentEvent(data: "next")])
    }
}
