import BulkheadHTTP
import BulkheadObservability
import BulkheadTesting
import StackRunner
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The ingress relaying WebSockets to an in-process upstream over real sockets: messages
/// both ways, close codes both ways, the upstream's refusals passed on, limits, shutdown, and
/// plain HTTP and SSE still proxied alongside.
@Suite("Ingress WebSocket relay")
struct IngressWebSocketTests {
    /// What the upstream's WebSocket handler saw.
    final class UpstreamLog: Sendable {
        let closeCode = Mutex<WebSocketCloseCode?>(nil)
        let closeReason = Mutex<String?>(nil)
        let ended = AsyncGate()
    }

    /// api-core's stand-in: `/v1/stream` needs `Authorization: Bearer good` (or `?token=good`),
    /// reports the headers it got, echoes, and closes on request.
    static func upstream(_ log: UpstreamLog) -> Router {
        var r = Router()
        r.get("/v1/stream") { request, _ in
            guard request.headers.first("authorization") == "Bearer good" || request.queryParameters["token"] == "good" else {
                throw HTTPError(.unauthorized, code: "invalid_token", message: "The access token is missing or not valid.")
            }
            var report = "target=\(request.head.target)"
            for name in ["authorization", "origin", "cookie", "traceparent", "x-request-id", "x-forwarded-for", "x-forwarded-proto", "sec-websocket-protocol"] {
                report += "\n\(name)=\(request.headers.first(name) ?? "-")"
            }
            let firstMessage = report
            var headers = HTTPHeaders()
            if request.headers.first("sec-websocket-protocol")?.contains("bulkhead.v1") == true {
                headers.add(name: "Sec-WebSocket-Protocol", value: "bulkhead.v1")
            }
            return HTTPResponse(
                headers: headers,
                body: .webSocket(WebSocketOptions(maxFrameSize: 1 << 16, maxMessageSize: 1 << 16, pingInterval: nil)) { session in
                    defer {
                        log.closeCode.withLock { $0 = session.closeCode }
                        log.closeReason.withLock { $0 = session.closeReason }
                        log.ended.open()
                    }
                    try await session.send(text: firstMessage)
                    for await message in session.messages {
                        switch message {
                        case .text("close-4003"):
                            await session.close(code: WebSocketCloseCode(4003), reason: "upstream done")
                        case .text(let t):
                            try await session.send(text: "echo: " + t)
                        case .binary(let b):
                            try await session.send(binary: b.reversed())
                        }
                    }
                })
        }
        r.get("/internal/ws") { _, _ in HTTPResponse(body: .webSocket(WebSocketOptions()) { session in try await session.send(text: "private") }) }
        r.get("/v1/jobs/{id}") { _, context in .json(bytes: Array("{\"id\":\"\(context.parameters["id"] ?? "")\"}".utf8)) }
        r.get("/v1/jobs/{id}/events") { _, _ in
            .stream(headers: ["Content-Type": "text/event-stream"]) { writer in
                try await writer.write("data: one\n\n")
                try await writer.write("data: [DONE]\n\n")
            }
        }
        return r
    }

    @Test func relaysMessagesBothWaysWithTheClientsHeaders() async throws {
        let log = UpstreamLog()
        try await withTestServer(Self.upstream(log)) { api in
            try await withIngress(upstreams: [.apiCore: "http://127.0.0.1:\(api.port)"]) { ingress in
                // A browser-like upgrade with credentials, origin, cookie, trace and a subprotocol.
                let handshake = WebSocketClientHandshake(subprotocols: ["bulkhead.v1", "other"])
                var request = "GET /v1/stream?jobs=1,2 HTTP/1.1\r\n"
                for field in handshake.requestHeaders(host: "localhost:8000") { request += "\(field.name): \(field.value)\r\n" }
                request += "Authorization: Bearer good\r\nOrigin: http://app.example\r\nCookie: s=1\r\n"
                request += "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Request-Id: ws-req-1\r\n\r\n"
                let c = try RawConnection(port: ingress.port)
                try c.send(request)
                let answer = try c.readResponse()
                #expect(answer.status == 101)
                if case .failure(let error) = handshake.validateResponse(status: answer.head.status, headers: answer.head.headers) {
                    Issue.record("bad 101 from the ingress: \(error)")
                }
                #expect(answer.header("sec-websocket-protocol") == "bulkhead.v1")
                var parser = WebSocketFrameParser(maxFrameSize: 1 << 20, expectMasked: false)
                parser.append(c.takeBufferedBytes())
                let report = try #require(try nextFrame(c, &parser))
                let lines = String(decoding: report.payload, as: UTF8.self).split(separator: "\n").map(String.init)
                #expect(lines.contains("target=/v1/stream?jobs=1,2"))
                #expect(lines.contains("authorization=Bearer good"))
                #expect(lines.contains("origin=http://app.example"))
                #expect(lines.contains("cookie=s=1"))
                #expect(lines.contains("traceparent=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
                #expect(lines.contains("x-request-id=ws-req-1"))
                #expect(lines.contains("x-forwarded-for=127.0.0.1"))
                #expect(lines.contains("x-forwarded-proto=http"))
                #expect(lines.contains("sec-websocket-protocol=bulkhead.v1, other"))
                try c.send(WebSocketFrameEncoder.closeFrame(code: .normalClosure, maskingKey: WebSocketFrameEncoder.randomMaskingKey()))
                #expect(try nextFrame(c, &parser).flatMap(TestWebSocketClient.closeCode) == 1000)

                // Messages both ways through the test client (token in the query).
                let ws = try TestWebSocketClient(port: ingress.port, path: "/v1/stream?token=good")
                #expect(try ws.receiveFrame()?.opcode == .text)  // the report
                try ws.send(text: "hello")
                let echo = try #require(try ws.receiveFrame())
                #expect(echo.opcode == .text && String(decoding: echo.payload, as: UTF8.self) == "echo: hello")
                try ws.send(opcode: .binary, payload: [1, 2, 3])
                let reversed = try #require(try ws.receiveFrame())
                #expect(reversed.opcode == .binary && reversed.payload == [3, 2, 1])
                // A fragmented message with a ping in between: the ingress answers the ping and
                // relays the message whole.
                try ws.send(opcode: .text, payload: Array("frag".utf8), fin: false)
                try ws.send(opcode: .ping, payload: [7])
                try ws.send(opcode: .continuation, payload: Array("mented".utf8), fin: true)
                let pong = try #require(try ws.receiveFrame())
                #expect(pong.opcode == .pong && pong.payload == [7], "\(pong) \(String(decoding: pong.payload, as: UTF8.self))")
                let joined = try #require(try ws.receiveFrame())
                #expect(String(decoding: joined.payload, as: UTF8.self) == "echo: fragmented")
                // A 40 KB message (16-bit length form) both ways.
                let big = String(repeating: "x", count: 40_000)
                try ws.send(text: big)
                let bigEcho = try ws.receiveFrame()
                #expect(bigEcho?.payload.count == 40_000 + 6, "\(String(describing: bigEcho))")
                try ws.send(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: .normalClosure))
                let closing = try ws.receiveFrame()
                #expect(closing.flatMap(TestWebSocketClient.closeCode) == 1000, "\(String(describing: closing))")
                try await waitUntil { ingress.webSocketCount == 0 }
            }
        }
    }

    @Test func closeCodesAndReasonsCrossTheRelay() async throws {
        let log = UpstreamLog()
        try await withTestServer(Self.upstream(log)) { api in
            try await withIngress(upstreams: [.apiCore: "http://127.0.0.1:\(api.port)"]) { ingress in
                // The client closes: the upstream gets the same code and reason.
                let first = try TestWebSocketClient(port: ingress.port, path: "/v1/stream?token=good")
                _ = try first.receiveFrame()
                try first.send(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: WebSocketCloseCode(4001), reason: "bye"))
                #expect(try first.receiveFrame().flatMap(TestWebSocketClient.closeCode) == 4001)
                #expect(await log.ended.wait(timeout: .seconds(5)))
                #expect(log.closeCode.withLock { $0 } == WebSocketCloseCode(4001))
                #expect(log.closeReason.withLock { $0 } == "bye")

                // The upstream closes: the client gets its code and reason.
                let second = try TestWebSocketClient(port: ingress.port, path: "/v1/stream?token=good")
                _ = try second.receiveFrame()
                try second.send(text: "close-4003")
                let close = try #require(try second.receiveFrame())
                #expect(TestWebSocketClient.closeCode(close) == 4003)
                #expect(String(decoding: close.payload.dropFirst(2), as: UTF8.self) == "upstream done")
                try second.send(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: WebSocketCloseCode(4003)))
                #expect(try second.connection.waitForClose())
                try await waitUntil { ingress.webSocketCount == 0 }
            }
        }
    }

    @Test func upstreamRefusalsAndBadUpgradesAreHTTPAnswers() async throws {
        let dead = try unusedPort()
        try await withTestServer(Self.upstream(UpstreamLog())) { api in
            try await withIngress(upstreams: [.apiCore: "http://127.0.0.1:\(api.port)", .auth: "http://127.0.0.1:\(dead)"]) { ingress in
                // A bad token: the upstream's 401 and JSON body, not a 101.
                let denied = try upgrade(port: ingress.port, path: "/v1/stream", extra: "Authorization: Bearer bad\r\nX-Request-Id: r-401\r\n")
                #expect(denied.status == 401)
                #expect(denied.errorCode == "invalid_token")
                #expect(denied.header("content-type") == "application/json")
                #expect(denied.header("x-request-id") == "r-401")
                #expect(denied.header("upgrade") == nil)

                // A path the upstream does not have: its 404.
                let missing = try upgrade(port: ingress.port, path: "/v1/stream/elsewhere?token=good")
                #expect(missing.status == 404)
                #expect(missing.errorCode != nil)

                // /internal stays closed, upgrade or not, even though the upstream has a socket there.
                for path in ["/internal/ws", "/%69nternal/ws", "//internal/ws"] {
                    let refused = try upgrade(port: ingress.port, path: path)
                    #expect(refused.status == 404, "\(path)")
                    #expect(refused.errorCode == "not_found")
                }

                // An upstream that is down: 502 like any request.
                let down = try upgrade(port: ingress.port, path: "/v1/auth/socket")
                #expect(down.status == 502)
                #expect(down.errorCode == "upstream_unavailable")

                // A broken client handshake is answered by the ingress itself.
                let c = try RawConnection(port: ingress.port)
                try c.send(
                    "GET /v1/stream?token=good HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
                let old = try c.readResponse()
                #expect(old.status == 426)
                #expect(old.header("sec-websocket-version") == "13")
                #expect(ingress.webSocketCount == 0)
            }
        }
    }

    @Test func relaysBeyondTheLimitGet503() async throws {
        try await withTestServer(Self.upstream(UpstreamLog())) { api in
            try await withIngress(upstreams: [.apiCore: "http://127.0.0.1:\(api.port)"], configure: { $0.maxWebSockets = 1 }) { ingress in
                let first = try TestWebSocketClient(port: ingress.port, path: "/v1/stream?token=good")
                _ = try first.receiveFrame()
                let busy = try upgrade(port: ingress.port, path: "/v1/stream?token=good")
                #expect(busy.status == 503)
                #expect(busy.errorCode == "too_many_websockets")
                #expect(ingress.webSocketCount == 1)
                // Plain requests are not affected by the WebSocket limit.
                let c = try RawConnection(port: ingress.port)
                try c.send("GET /v1/jobs/7 HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(try c.readResponse().text == #"{"id":"7"}"#)

                try first.send(opcode: .close, payload: WebSocketFrameEncoder.closePayload(code: .normalClosure))
                _ = try first.receiveFrame()
                try await waitUntil { ingress.webSocketCount == 0 }
                let again = try TestWebSocketClient(port: ingress.port, path: "/v1/stream?token=good")
                #expect(try again.receiveFrame()?.opcode == .text)
            }
        }
    }

    @Test func httpAndSSEStillProxyWhileASocketIsOpen() async throws {
        try await withTestServer(Self.upstream(UpstreamLog())) { api in
            try await withIngress(upstreams: [.apiCore: "http://127.0.0.1:\(api.port)"]) { ingress in
                let ws = try TestWebSocketClient(port: ingress.port, path: "/v1/stream?token=good")
                _ = try ws.receiveFrame()
                let c = try RawConnection(port: ingress.port)
                try c.send("GET /v1/jobs/42 HTTP/1.1\r\nHost: x\r\n\r\n")
                let job = try c.readResponse()
                #expect(job.status == 200)
                #expect(job.text == #"{"id":"42"}"#)
                try c.send("GET /v1/jobs/42/events HTTP/1.1\r\nHost: x\r\n\r\n")
                let events = try c.readResponse()
                #expect(events.header("content-type") == "text/event-stream")
                #expect(events.text == "data: one\n\ndata: [DONE]\n\n")
                try ws.send(text: "still here")
                #expect(try ws.receiveFrame().map { String(decoding: $0.payload, as: UTF8.self) } == "echo: still here")
            }
        }
    }

    @Test func shutdownSaysGoingAwayToBothSides() async throws {
        let log = UpstreamLog()
        try await withTestServer(Self.upstream(log)) { api in
            var config = IngressConfiguration(upstreams: [.apiCore: "http://127.0.0.1:\(api.port)"])
            config.port = 0
            config.loopCount = 1
            config.accessLog = false
            let ingress = try await Ingress.start(config, logger: Logger(service: "ingress-test", minimumLevel: .error))
            let ws = try TestWebSocketClient(port: ingress.port, path: "/v1/stream?token=good")
            _ = try ws.receiveFrame()
            let started = ContinuousClock.now
            await ingress.shutdown(gracePeriod: .seconds(5))
            #expect(ContinuousClock.now - started < .seconds(4))
            #expect(try ws.receiveFrame().flatMap(TestWebSocketClient.closeCode) == 1001)
            #expect(await log.ended.wait(timeout: .seconds(5)))
            #expect(log.closeCode.withLock { $0 } == .goingAway)
        }
    }
}

// MARK: - Helpers

/// Sends a valid upgrade for `path` (plus `extra` header lines) and reads the answer.
private func upgrade(port: Int, path: String, extra: String = "") throws -> TestResponse {
    let c = try RawConnection(port: port)
    try c.send(
        "GET \(path) HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n")
    return try c.readResponse()
}

/// The next frame on a raw connection (within 5 s), nil when it closed.
private func nextFrame(_ c: RawConnection, _ parser: inout WebSocketFrameParser) throws -> WebSocketFrame? {
    let deadline = ContinuousClock.now + .seconds(5)
    while true {
        if let frame = try parser.next() { return frame }
        guard ContinuousClock.now < deadline else { throw TestError("no frame within 5 s") }
        guard let bytes = try c.receive(timeout: .milliseconds(100)) else { return nil }
        parser.append(bytes)
    }
}

/// Polls `condition` until it holds (5 s at most).
private func waitUntil(_ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TestError("condition not met within 5 s") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

/// A port nothing listens on.
private func unusedPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestError("socket failed") }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestError("bind failed") }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return Int(UInt16(bigEndian: addr.sin_port))
}
