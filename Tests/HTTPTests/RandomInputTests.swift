import BulkheadHTTP
import BulkheadTesting
import Testing

/// Random and mutated bytes thrown at a live server must never crash it or wedge it.
@Suite("Randomized input")
struct RandomInputTests {
    struct SeededRandom: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let seeds: [String] = [
        "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nT: 1\r\n\r\n",
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
    ]

    @Test func mutatedRequestsNeverCrashTheServer() async throws {
        var r = StreamingTests.echoRouter()
        r.get("/hello") { _, _ in .text("hello") }
        r.post("/echo", bodyLimit: 1024) { request, _ in HTTPResponse(contentType: "text/plain", body: request.body) }
        try await withTestServer(r, configure: { $0.headerTimeout = .milliseconds(200); $0.bodyTimeout = .milliseconds(200) }) { server in
            var rng = SeededRandom(state: 0xB01C_4EAD)
            for i in 0..<400 {
                var bytes = Array(Self.seeds[i % Self.seeds.count].utf8)
                let mutations = Int.random(in: 1...8, using: &rng)
                for _ in 0..<mutations {
                    switch Int.random(in: 0..<5, using: &rng) {
                    case 0 where !bytes.isEmpty: bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    case 1 where !bytes.isEmpty: bytes.remove(at: Int.random(in: 0..<bytes.count, using: &rng))
                    case 2: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...bytes.count, using: &rng))
                    case 3: bytes += (0..<Int.random(in: 1...64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                    default: bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng)))
                    }
                }
                let c = try RawConnection(port: server.port)
                try? c.send(bytes)
                c.shutdownWrite()
                // Whatever came back must be HTTP or nothing; never a hang past the timeouts.
                _ = try c.waitForClose(timeout: .seconds(3))
            }
            // Still healthy afterwards, and nothing left open.
            let c = try RawConnection(port: server.port)
            try c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse().text == "hello")
        }
    }
}
