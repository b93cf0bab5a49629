import BulkheadHTTPClient
import Foundation
@testable import InferenceGateway
import Shared
import Synchronization
import Testing

/// The hand-written readers and writers of the streaming hot path agree with Foundation's
/// decoder and encoder, and hand unusual input back to them (nil) instead of guessing.
@Suite("Perf: scanners")
struct PerfScannerTests {
    static func scan(_ text: String, member: StaticString = "delta") -> OpenAIChunkScanner.Chunk? {
        Array(text.utf8).withUnsafeBufferPointer { OpenAIChunkScanner.scan($0, choiceMember: member) }
    }

    @Test func scansTheCommonChunkShapes() {
        let role = Self.scan(#"{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}],"usage":null}"#)
        #expect(role == OpenAIChunkScanner.Chunk(hasChoice: true, content: "", toolCalls: nil, finishReason: nil, usage: nil))
        let text = Self.scan(#"{"choices":[{"index":0,"delta":{"content":"He said \"hi\"\n\u00e9\ud83d\ude00"},"finish_reason":"stop"}]}"#)
        #expect(text?.content == "He said \"hi\"\n\u{e9}\u{1F600}")
        #expect(text?.finishReason == "stop")
        let usage = Self.scan(#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":8,"total_tokens":20,"prompt_tokens_details":{"cached_tokens":3}}}"#)
        #expect(usage?.hasChoice == false)
        #expect(usage?.usage == TokenUsage(promptTokens: 12, completionTokens: 8, cachedPromptTokens: 3))
        let tools = Self.scan(#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]},"finish_reason":null}]}"#)
        #expect(tools?.toolCalls.map { String(decoding: $0, as: UTF8.self) } == #"[{"index":0,"function":{"name":"f","arguments":"{}"}}]"#)
        let completion = Self.scan(
            #"{"id":"x","choices":[{"index":0,"message":{"role":"assistant","content":"Hi there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2}}"#,
            member: "message")
        #expect(completion?.content == "Hi there")
        #expect(completion?.usage == TokenUsage(promptTokens: 5, completionTokens: 2))
    }

    @Test(arguments: [
        #"{"error":{"message":"boom","type":"server_error"}}"#,  // errors take the decoder path
        #"{"error":"boom"}"#,
        #"{"choices":[{"delta":{"content":"a"}},{"delta":{"content":"b"}}]}"#,  // several choices
        #"{"choices":[{"delta":{"content":42}}]}"#,  // wrong type
        #"{"usage":{"prompt_tokens":1.5,"completion_tokens":2}}"#,  // not an exact integer
        #"{"usage":{"completion_tokens":2}}"#,  // required count missing
        #"{"choices":[{"delta":{"content":"a"}}]} trailing"#,
        #"{"choices":[{"delta":{"content":"a\u12"}}]}"#,
        #"{"choices":[{"delta":{"content":"a"}],}"#,
        "not json",
    ])
    func unusualChunksGoToTheDecoder(text: String) {
        #expect(Self.scan(text) == nil)
    }

    @Test(arguments: [
        #"{"model":"gpt-4o","messages":[{"role":"user","content":"hé \"quoted\" \u00e9 \ud83d\ude00"}],"temperature":0.7,"n":1,"max_tokens":100}"#,
        #"{"a":[1,-2,3.25,1e3,-0.5e-2,12345678901234567890,true,false,null,{},[]],"b":{"c":{"d":"\/\b\f\n\r\t"}}}"#,
        #"  [ 1 , "x" , null ]  "#,
        #""just a string""#,
        "-0",
    ])
    func readerAgreesWithTheDecoder(text: String) throws {
        let bytes = Array(text.utf8)
        let expected = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        #expect(JSONReader.parse(bytes) == expected)
    }

    @Test(arguments: ["{", #"{"a":1,}"#, "[1 2]", "01", "1.", "-", #"{"a":1,"a":2}"#, "\"\u{01}\"", "nul", #"{"a":"\x"}"#, "1 2"])
    func readerRefusesWhatItDoesNotAccept(text: String) {
        #expect(JSONReader.parse(Array(text.utf8)) == nil)
    }

    @Test func readerRefusesInvalidUTF8() {
        #expect(JSONReader.parse([0x22, 0xFF, 0x22]) == nil)
    }

    @Test func writerRoundTripsThroughTheDecoder() throws {
        let value: JSONValue = .object([
            "model": .string("m \"q\" \\ \n \u{1}"), "n": .number(3), "t": .number(0.7), "big": .number(1e20), "neg": .number(-2),
            "list": .array([.bool(true), .null, .object([:]), .array([])]),
        ])
        var w = JSONWriter()
        w.value(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(w.bytes)) == value)
        #expect(String(decoding: w.bytes, as: UTF8.self).contains(#""n":3"#))
    }

    @Test func chunksAppendedIntoOneBufferMatchSeparateOnes() {
        let e = ChunkEncoder(id: "chatcmpl-1", created: 7, model: "m", includeUsage: true)
        var batch: [UInt8] = []
        e.chunk(into: &batch, role: true, content: "Hel", toolCalls: nil, finishReason: nil)
        e.chunk(into: &batch, role: false, content: "lo", toolCalls: nil, finishReason: "stop")
        let separate = e.chunk(role: true, content: "Hel", toolCalls: nil, finishReason: nil)
            + e.chunk(role: false, content: "lo", toolCalls: nil, finishReason: "stop")
        #expect(batch == separate)
    }

    @Test func deadlineWatchFiresOnlyWhatIsDue() async throws {
        let watch = DeadlineWatch(granularity: .milliseconds(5))
        let fired = Mutex<[Int]>([])
        let kept = watch.add(after: .milliseconds(20)) { fired.withLock { $0.append(1) } }
        let removed = watch.add(after: .milliseconds(20)) { fired.withLock { $0.append(2) } }
        _ = watch.add(after: .seconds(60)) { fired.withLock { $0.append(3) } }
        watch.remove(removed)
        let start = ContinuousClock.now
        while fired.withLock({ $0.isEmpty }) && ContinuousClock.now - start < .seconds(5) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(ContinuousClock.now - start >= .milliseconds(20))
        try await Task.sleep(for: .milliseconds(50))
        #expect(fired.withLock { $0 } == [1])
        #expect(watch.count == 1)
        _ = kept
    }

    @Test func sseLineParserAgreesWithTheByteWiseRulesAtEverySplit() throws {
        let stream = "\u{FEFF}data: {\"a\":1}\r\n\r\n: comment\nevent: e\nid: 7\ndata: x\ndata: y\r\rretry: 15\ndata: z\n\ndata: tail"
        let bytes = Array(stream.utf8)
        var reference = ServerSentEventParser()
        // A lazy sequence is not contiguous: the byte-wise path.
        let expected = try reference.parse(bytes.lazy.map { $0 })
        #expect(expected.map(\.data) == [#"{"a":1}"#, "x\ny", "z"])
        for split in 0...bytes.count {
            var p = ServerSentEventParser()
            let events = try p.parse(bytes[..<split]) + p.parse(bytes[split...])
            #expect(events == expected, "split at \(split)")
        }
    }
}
