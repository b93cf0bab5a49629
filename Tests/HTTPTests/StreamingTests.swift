import BulkheadHTTP
import Foundation
import BulkheadTesting
import Synchronization
import Testing

/// Streamed bodies, server-sent events and WebSockets over real sockets.
@Suite("Streaming, SSE and WebSocket")
struct StreamingTests {
    @Test func streamedBodyIsChunkedAndArrivesAsWritten() async throws {
        let release = AsyncGate()
        var r = Router()
        r.get("/stream") { _, _ in
            .stream(headers: ["Content-Type": "text/plain"]) { writer in
                try await writer.write("first;")
                await release.wait()
                try await writer.write("second")
            }
        }
        try await withTestServer(r) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            // The first piece must be on the wire while the producer is still blocked.
            var seen: [UInt8] = []
            let deadline = ContinuousClock.now + .seconds(3)
            while !String(decoding: seen, as: UTF8.self).contains("first;") && ContinuousClock.now < deadline {
                seen += try c.receive(timeout: .milliseconds(100)) ?? []
            }
            let text = String(decoding: seen, as: UTF8.self)
            #expect(text.contains("Transfer-Encoding: chunked"))
            #expect(text.contains("6\r\nfirst;\r\n"))
            #expect(!text.contains("second"))
            release.open()
            var rest = seen
            while !String(decoding: rest, as: UTF8.self).hasSuffix("0\r\n\r\n") && ContinuousClock.now < deadline + .seconds(3) {
                rest += try c.receive(timeout: .milliseconds(100)) ?? []
            }
            #expect(String(decoding: rest, as: UTF8.self).hasSuffix("6\r\nsecond\r\n0\r\n\r\n"))
            // Keep-alive survives a streamed response.
            try c.send("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse().text == "first;second")
        }
    }

    @Test func slowReaderAppliesBackpressureToTheProducer() async throws {
        let written = Atomic<Int>(0)
        let chunk = [UInt8](repeating: 0x61, count: 64 * 1024)
        var r = Router()
        r.get("/big") { _, _ in
            .stream { writer in
                for _ in 0..<256 {  // 16 MiB in total
                    try await writer.write(chunk)
                    written.add(chunk.count, ordering: .relaxed)
                }
            }
        }
        try await withTestServer(r, configure: { $0.writeHighWatermark = 256 * 1024 }) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            try await Task.sleep(for: .milliseconds(500))
            // Nobody reads: the producer must be parked after kernel buffers + the high watermark,
            // far short of the 16 MiB it wants to write.
            let parked = written.load(ordering: .relaxed)
            #expect(parked < 8 * 1024 * 1024, "producer ran ahead: \(parked) bytes")
            let response = try c.readResponse(timeout: .seconds(20))
            #expect(response.body.count == 16 * 1024 * 1024)
            #expect(written.load(ordering: .relaxed) == 16 * 1024 * 1024)
        }
    }

    @Test func aClientThatStopsReadingIsAbandonedAfterTheWriteTimeout() async throws {
        let failed = AsyncGate()
        let chunk = [UInt8](repeating: 0x62, count: 64 * 1024)
        var r = Router()
        r.get("/firehose") { _, _ in
            .stream { writer in
                do {
                    for _ in 0..<10_000 { try await writer.write(chunk) }
                } catch {
                    failed.open()
                    throw error
                }
            }
        }
        try await withTestServer(r, configure: { $0.writeTimeout = .milliseconds(300) }) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /firehose HTTP/1.1\r\nHost: x\r\n\r\n")
            // Never read: the kernel buffers fill, the producer parks, and after the write
            // timeout the server gives up on this client and frees the producer.
            #expect(await failed.wait(timeout: .seconds(5)), "the parked producer was never released")
            let deadline = ContinuousClock.now + .seconds(3)
            while server.openConnections > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(server.openConnections == 0)
            withExtendedLifetime(c) {}
        }
    }

    @Test func serverSentEventsWithIdsRetryAndHeartbeats() async throws {
        var r = Router()
        r.get("/events") { _, _ in
            .serverSentEvents(retry: 1500, heartbeat: .milliseconds(50)) { sse in
                try await sse.send(id: "1", event: "status", data: "running")
                try await Task.sleep(for: .milliseconds(180))
                try await sse.send(id: "2", event: "delta", data: "line one\nline two")
            }
        }
        try await withTestServer(r) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            let response = try c.readResponse(timeout: .seconds(5))
            #expect(response.header("content-type") == "text/event-stream; charset=utf-8")
            #expect(response.header("cache-control") == "no-cache")
            let text = response.text
            #expect(text.hasPrefix("retry: 1500\n\nid: 1\nevent: status\ndata: running\n\n"))
            #expect(text.contains(": \n\n"), "a heartbeat comment went out while the producer waited")
            // A heartbeat may race the last event; without comments the stream is exactly the events.
            let events = text.replacingOccurrences(of: ": \n\n", with: "")
            #expect(events == "retry: 1500\n\nid: 1\nevent: status\ndata: running\n\nid: 2\nevent: delta\ndata: line one\ndata: line two\n\n")
        }
    }

    @Test func sseProducerIsCancelledWhenTheClientDisconnects() async throws {
        let stopped = AsyncGate()
        var r = Router()
        r.get("/forever") { _, _ in
            .serverSentEvents(heartbeat: nil) { sse in
                do {
                    try await sse.send(data: "hello")
                    try await Task.sleep(for: .seconds(30))
                } catch {
                    stopped.open()
                    throw error
                }
            }
        }
        try await withTestServer(r) { server in
            do {
                let c = try RawConnection(port: server.port)
                try c.send("GET /forever HTTP/1.1\r\nHost: x\r\n\r\n")
                _ = try c.receive(timeout: .seconds(2))
            }  // c is closed here
            let noticed = await stopped.wait(timeout: .seconds(3))
            #expect(noticed, "the producer was not stopped after the client left")
            let deadline = ContinuousClock.now + .seconds(2)
            while server.openConnections > 0 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(server.openConnections == 0)
        }
    }

    static func echoRouter() -> Router {
        var r = Router()
        r.get("/ws") { _, _ in
            HTTPResponse(body: .webSocket(WebSocketOptions(maxFrameSize: 1024, maxMessageSize: 4096, pingInterval: nil)) { session in
                for await message in session.messages {
                    switch message {
                    case .text(let t): try await session.send(text: "echo: " + t)
                    case .binary(let b): try await session.send(binary: b)
                    }
                }
            })
        }
        return r
    }

    @Test func webSocketEchoPingAndClose() async throws {
        try await withTestServer(Self.echoRouter()) { server in
            let ws = try TestWebSocketClient(port: server.port, path: "/ws")
            try ws.send(text: "hi")
            let echo = try #require(try ws.receiveFrame())
            #expect(echo.opcode == .text && String(decoding: echo.payload, as: UTF8.self) == "echo: hi")

            // Fragmented message with a ping in the middle.
            try ws.send(opcode: .text, payload: Array("frag".utf8), fin: false)
            try ws.send(opcode: .ping, payload: [1, 2, 3])
            try ws.send(opcode: .continuation, payload: Array("mented".utf8), fin: true)
            let pong = try #require(try ws.receiveFrame())
            #expect(pong.opcode == .pong && pong.payload == [1, 2, 3])
            let joined = try #require(try ws.receiveFrame())
            #expect(String(decoding: joined.payload, as: UTF8.self) == "echo: fragmented")

            try ws.send(opcode: .binary, payload: [0, 255, 7])
            #expect(try ws.receiveFrame()?.payload == [0, 255, 7])

            try ws.send(opcode: .close, payload: [0x03, 0xE8])  // 1000
            let close = try #require(try ws.receiveFrame())
            #expect(TestWebSocketClient.closeCode(close) == 1000)
            #expect(try ws.connection.waitForClose())
        }
    }

    @Test func webSocketLimitsAndProtocolErrors() async throws {
        try await withTestServer(Self.echoRouter()) { server in
            let big = try TestWebSocketClient(port: server.port, path: "/ws")
            try big.send(opcode: .binary, payload: [UInt8](repeating: 1, count: 2000))
            #expect(try big.receiveFrame().flatMap(TestWebSocketClient.closeCode) == 1009)
            #expect(try big.connection.waitForClose())

            let unmasked = try TestWebSocketClient(port: server.port, path: "/ws")
            try unmasked.connection.send(WebSocketFrameEncoder.encode(opcode: .text, payload: Array("x".utf8)))
            #expect(try unmasked.receiveFrame().flatMap(TestWebSocketClient.closeCode) == 1002)

            let badText = try TestWebSocketClient(port: server.port, path: "/ws")
            try badText.send(opcode: .text, payload: [0xC3, 0x28])
            #expect(try badText.receiveFrame().flatMap(TestWebSocketClient.closeCode) == 1007)
        }
    }

    @Test func webSocketHandshakeErrorsAreJSON() async throws {
        try await withTestServer(Self.echoRouter()) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 426)
            #expect(r.header("sec-websocket-version") == "13")
            #expect(r.errorCode != nil)
        }
    }

    @Test func shutdownSendsGoingAwayToWebSockets() async throws {
        var config = HTTPServerConfiguration()
        config.port = 0
        config.loopCount = 1
        let app = HTTPApplication(router: Self.echoRouter(), logger: .init(service: "t", minimumLevel: .error), accessLog: false)
        let server = try HTTPServer(configuration: config, responder: app)
        try server.start()
        let ws = try TestWebSocketClient(port: server.port, path: "/ws")
        try ws.send(text: "a")
        _ = try ws.receiveFrame()
        let started = ContinuousClock.now
        await server.shutdown(gracePeriod: .seconds(5))
        #expect(ContinuousClock.now - started < .seconds(3), "long-lived sockets must not hold shutdown for the grace period")
        let frame = try ws.receiveFrame()
        #expect(frame.flatMap(TestWebSocketClient.closeCode) == 1001)
    }
}
