#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
@testable import BulkheadObservability

@Suite("Logger")
struct LoggerTests {
    /// 2024-03-05T07:08:09.123Z
    static let fixedTime = WallClockTime(seconds: 1_709_622_489, nanoseconds: 123_456_789)

    func makeLogger(_ sink: InMemoryLogSink, level: LogLevel = .debug) -> Logger {
        Logger(service: "auth", minimumLevel: level, sink: sink, clock: { LoggerTests.fixedTime })
    }

    func parse(_ line: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func writesFieldsInFixedOrder() {
        let sink = InMemoryLogSink()
        let logger = makeLogger(sink).with(requestID: "req-1").with(traceID: "4bf92f3577b34da6a3ce929d0e0e4736")
            .with(["zone": "eu", "attempt": 2])
        logger.info("started", ["port": 8080, "ratio": 0.5, "tls": false, "attempt": 3])
        #expect(sink.lines == [
            #"{"ts":"2024-03-05T07:08:09.123Z","level":"info","service":"auth","msg":"started","# +
            #""request_id":"req-1","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","zone":"eu","# +
            #""attempt":3,"port":8080,"ratio":0.5,"tls":false}"#,
        ])
    }

    @Test func escapesJSONStrings() throws {
        let sink = InMemoryLogSink()
        let tricky = "quote\" back\\slash\nnew\rret\ttab\u{08}\u{0C}\u{01}\u{1F}\u{7F} é 日本 😀 </script>"
        makeLogger(sink).info(tricky, ["k\"ey": .string(tricky)])
        let line = try #require(sink.lines.first)
        let escaped = #"quote\" back\\slash\nnew\rret\ttab\b\f\u0001\u001f\u007f é 日本 😀 </script>"#
        #expect(line.contains(#""msg":""# + escaped + #"""#))
        #expect(line.contains(#""k\"ey":""# + escaped + #"""#))
        // No raw control characters survive, and the line round-trips through a JSON parser.
        #expect(!line.utf8.contains(where: { $0 < 0x20 }))
        let object = try parse(line)
        #expect(object["msg"] as? String == tricky)
        #expect(object["k\"ey"] as? String == tricky)
    }

    @Test func nonFiniteDoublesAreStrings() throws {
        let sink = InMemoryLogSink()
        makeLogger(sink).info("x", ["nan": .double(.nan), "inf": .double(.infinity), "ninf": .double(-.infinity)])
        let object = try parse(try #require(sink.lines.first))
        #expect(object["nan"] as? String == "NaN")
        #expect(object["inf"] as? String == "Infinity")
        #expect(object["ninf"] as? String == "-Infinity")
    }

    @Test func redactsSecretsInMetadata() throws {
        let sink = InMemoryLogSink()
        let logger = makeLogger(sink).with(["db_password": "hunter2", "user": "ann"])
        logger.info("login", [
            "password": "p1", "token": "t1", "Authorization": "Bearer abc", "api_key": "k1",
            "X-Api-Key": "k2", "apiKey": "k3", "cookie": "c1", "Set-Cookie": "c2", "client_secret": "s1",
            "accessToken": "t2", "refresh_token": "t3", "prompt_tokens": 12, "path": "/v1/x",
        ])
        let line = try #require(sink.lines.first)
        for secret in ["hunter2", "p1", "t1", "Bearer abc", "k1", "k2", "k3", "c1", "c2", "s1", "t2", "t3"] {
            #expect(!line.contains("\"\(secret)\""), "leaked \(secret)")
        }
        let object = try parse(line)
        for key in ["db_password", "password", "token", "Authorization", "api_key", "X-Api-Key", "apiKey", "cookie",
                    "Set-Cookie", "client_secret", "accessToken", "refresh_token"] {
            #expect(object[key] as? String == "[redacted]", "\(key) not redacted")
        }
        #expect(object["user"] as? String == "ann")
        #expect(object["prompt_tokens"] as? Int == 12)
        #expect(object["path"] as? String == "/v1/x")
        #expect(logger.metadata["db_password"] == .string("[redacted]"))
    }

    @Test func redactionRules() {
        let redaction = Redaction(extraSensitiveKeys: ["SSN"])
        #expect(redaction.isSensitive("ssn"))
        #expect(redaction.isSensitive("PASSWORD"))
        #expect(redaction.isSensitive("proxy-authorization"))
        #expect(redaction.isSensitive("private_key"))
        #expect(redaction.isSensitive("APIKEY"))
        #expect(!redaction.isSensitive("max_tokens"))
        #expect(!redaction.isSensitive("status"))
        #expect(!redaction.isSensitive("author"))
        #expect(redaction.redact(["token": "x", "n": 1]) == ["token": "[redacted]", "n": 1])
    }

    @Test func reservedKeysDoNotDuplicateFixedFields() throws {
        let sink = InMemoryLogSink()
        makeLogger(sink).info("real", ["msg": "fake", "level": "fake"])
        let line = try #require(sink.lines.first)
        #expect(line.hasSuffix(#""msg":"real","_level":"fake","_msg":"fake"}"#))
    }

    @Test func minimumLevelSkipsWithoutEvaluating() {
        let sink = InMemoryLogSink()
        let logger = makeLogger(sink, level: .warning)
        var evaluated = false
        func expensive() -> String { evaluated = true; return "x" }
        logger.debug(expensive())
        logger.info(expensive())
        #expect(!evaluated)
        logger.warning("w")
        logger.error("e")
        logger.log(.info, "i")
        #expect(sink.lines.count == 2)
        #expect(sink.lines[0].contains(#""level":"warning""#))
        #expect(sink.lines[1].contains(#""level":"error""#))
        #expect(logger.with(minimumLevel: .debug).isEnabled(.debug))
    }

    @Test func copiesAreIndependent() {
        let sink = InMemoryLogSink()
        let base = makeLogger(sink)
        let request = base.with(requestID: "r1").with(trace: TraceContext.random())
        base.info("base")
        request.info("request")
        #expect(!sink.lines[0].contains("request_id"))
        #expect(sink.lines[1].contains(#""request_id":"r1""#))
        #expect(sink.lines[1].contains(#""trace_id":""#))
    }

    @Test func logLevelParsing() {
        #expect(LogLevel(parsing: " WARN ") == .warning)
        #expect(LogLevel(parsing: "Debug") == .debug)
        #expect(LogLevel(parsing: "error") == .error)
        #expect(LogLevel(parsing: "verbose") == nil)
        #expect(LogLevel.debug < .info && LogLevel.warning < .error)
    }

    @Test(arguments: [
        (Int64(0), Int32(0), "1970-01-01T00:00:00.000Z"),
        (Int64(951_782_400), Int32(5_000_000), "2000-02-29T00:00:00.005Z"),
        (Int64(-1), Int32(999_999_999), "1969-12-31T23:59:59.999Z"),
        (Int64(1_709_622_489), Int32(123_456_789), "2024-03-05T07:08:09.123Z"),
        (Int64(4_102_444_799), Int32(0), "2099-12-31T23:59:59.000Z"),
    ])
    func rfc3339(seconds: Int64, nanoseconds: Int32, expected: String) {
        #expect(WallClockTime(seconds: seconds, nanoseconds: nanoseconds).rfc3339 == expected)
    }

    @Test func realClockIsPlausible() {
        let text = WallClockTime.now().rfc3339
        #expect(text.count == 24)
        #expect(text.hasSuffix("Z"))
        #expect(text.hasPrefix("20"))
    }

    @Test func concurrentLinesStayWholeInMemory() async throws {
        let sink = InMemoryLogSink()
        let logger = makeLogger(sink)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<500 { logger.info("line", ["task": .int(task), "index": .int(index)]) }
                }
            }
        }
        #expect(sink.lines.count == 4000)
        for line in sink.lines { _ = try parse(line) }
    }

    /// Lines much longer than PIPE_BUF, written from 8 tasks through one file descriptor,
    /// must come out as whole lines.
    @Test func concurrentLinesStayWholeOnAFileDescriptor() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("obs-log-\(UInt64.random(in: 0...UInt64.max)).jsonl").path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0o600)
        try #require(fd >= 0)
        defer { unlink(path) }
        let sink = FileDescriptorLogSink(fileDescriptor: fd)
        #expect(sink.fileDescriptor == fd)
        let logger = Logger(service: "svc", sink: sink)
        let padding = String(repeating: "x", count: 10_000)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<200 {
                        logger.info("line \(task)-\(index)", ["pad": .string(padding), "task": .int(task)])
                    }
                }
            }
        }
        close(fd)
        let contents = try String(contentsOfFile: path, encoding: .utf8)
        #expect(contents.hasSuffix("\n"))
        let lines = contents.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 1600)
        var seen = Set<String>()
        for line in lines {
            let object = try parse(String(line))
            #expect(object["pad"] as? String == padding)
            #expect(object["service"] as? String == "svc")
            seen.insert(try #require(object["msg"] as? String))
        }
        #expect(seen.count == 1600)
    }
}
