import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadTesting
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `WebSocketClient` against our own server's WebSocket routes in-process (echo, close codes
/// both ways, limits, refused handshakes), and against a scripted raw peer for what the
/// server runtime never does (fragmented messages, pings, frames right behind the 101).
@Suite("WebSocket client")
struct WebSocketClientTests {
    /// What the server side saw, for the test to check.
    final class Seen: Sendable {
        let closeCode = Mutex<WebSocketCloseCode?>(nil)
        let closeReason = Mutex<String?>(nil)
        let ended = AsyncGate()
    }

    static func router(_ seen: Seen) -> Router {
        var r = Router()
        r.get("/echo") { request, _ in
            var headers = HTTPHeaders()
            if request.headers.first("sec-websocket-protocol")?.contains("chat") == true {
                headers.add(name: "Sec-WebSocket-Protocol", value: "chat")
            }
            let auth = request.headers.first("authorization") ?? "-"
            let target = request.head.target
            return HTTPResponse(
                headers: headers,
                body: .webSocket(WebSocketOptions(maxFrameSize: 1 << 16, maxMessageSize: 1 << 16, pingInterval: nil)) { session in
                    defer {
                        seen.closeCode.withLock { $0 = session.closeCode }
                        seen.closeReason.withLock { $0 = session.closeReason }
                        seen.ended.open()
                    }
                    for await message in session.messages {
                        switch message {
                        case .text("whoami"):
                            try await session.send(text: "auth=\(auth) target=\(target)")
                        case .text("close-please"):
                            await session.close(code: WebSocketCloseCode(4002), reason: "done")
                        case .text("big"):
                            try await session.send(binary: [UInt8](repeating: 7, count: 5000))
                        case .text(let t) where t.hasPrefix("burst "):
                            for i in 0..<(Int(t.dropFirst(6)) ?? 0) { try await session.send(text: "m\(i)") }
                        case .text(let t):
                            try await session.send(text: "echo: " + t)
                        case .binary(let b):
                            try await session.send(binary: b)
                        }
                    }
                })
        }
        r.get("/private") { request, _ in
            guard request.headers.first("authorization") == "Bearer good" else {
                throw HTTPError(.unauthorized, code: "invalid_token", message: "The access token is not valid.")
            }
            return HTTPResponse(body: .webSocket(WebSocketOptions()) { _ in })
        }
        return r
    }

    @Test func echoesTextAndBinaryAndSendsHeaders() async throws {
        let seen = Seen()
        try await withTestServer(Self.router(seen)) { server in
            let ws = try await WebSocketClient.connect(
                url: "ws://127.0.0.1:\(server.port)/echo?x=1", headers: ["Authorization": "Bearer abc"], subprotocols: ["v2", "chat"])
            #expect(ws.subprotocol == "chat")
            try await ws.send(text: "whoami")
            #expect(try await ws.receive() == .text("auth=Bearer abc target=/echo?x=1"))
            try await ws.send(text: "héllo")
            #expect(try await ws.receive() == .text("echo: héllo"))
            let bytes: [UInt8] = (0..<300).map { UInt8($0 & 0xFF) }
            try await ws.send(binary: bytes)
            #expect(try await ws.receive() == .binary(bytes))
            // Larger than the 125/65535 length forms, so every header size is exercised.
            let large = [UInt8](repeating: 0xA5, count: 70_000 - 10_000)
            try await ws.send(binary: large)
            #expect(try await ws.receive() == .binary(large))
            await ws.close()
            #expect(await seen.ended.wait(timeout: .seconds(5)))
            #expect(seen.closeCode.withLock { $0 } == .normalClosure)
        }
    }

    @Test func manyMessagesArriveCompleteAndInOrderWhileTheReaderIsSlow() async throws {
        try await withTestServer(Self.router(Seen())) { server in
            var config = WebSocketClient.Configuration()
            config.receiveQueueMessages = 8  // forces reading to pause and resume many times
            let ws = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)/echo", configuration: config)
            try await ws.send(text: "burst 500")
            var received: [String] = []
            for _ in 0..<500 {
                guard case .text(let t)? = try await ws.receive() else { break }
                received.append(t)
            }
            #expect(received == (0..<500).map { "m\($0)" })
            await ws.close()
        }
    }

    @Test func clientCloseCodeAndReasonReachTheServer() async throws {
        let seen = Seen()
        try await withTestServer(Self.router(seen)) { server in
            let ws = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)/echo")
            await ws.close(code: WebSocketCloseCode(4001), reason: "bye")
            #expect(await seen.ended.wait(timeout: .seconds(5)))
            #expect(seen.closeCode.withLock { $0 } == WebSocketCloseCode(4001))
            #expect(seen.closeReason.withLock { $0 } == "bye")
            // The server echoed the code; the stream is over.
            #expect(try await ws.receive() == nil)
            #expect(ws.closeCode == WebSocketCloseCode(4001))
            await #expect(throws: WebSocketClientError.self) { try await ws.send(text: "too late") }
        }
    }

    @Test func serverCloseCodeAndReasonReachTheClient() async throws {
        try await withTestServer(Self.router(Seen())) { server in
            let ws = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)/echo")
            try await ws.send(text: "close-please")
            #expect(try await ws.receive() == nil)
            #expect(ws.closeCode == WebSocketCloseCode(4002))
            #expect(ws.closeReason == "done")
        }
    }

    @Test func oversizedMessageIsRefusedWith1009() async throws {
        let seen = Seen()
        try await withTestServer(Self.router(seen)) { server in
            var config = WebSocketClient.Configuration()
            config.maxMessageSize = 1000
            let ws = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)/echo", configuration: config)
            try await ws.send(text: "hi")
            #expect(try await ws.receive() == .text("echo: hi"))
            try await ws.send(text: "big")
            let error = await #expect(throws: WebSocketClientError.self) { try await ws.receive() }
            #expect(error?.kind == .protocolError)
            #expect(error?.closeCode == .messageTooBig)
            // The server was told why.
            #expect(await seen.ended.wait(timeout: .seconds(5)))
            #expect(seen.closeCode.withLock { $0 } == .messageTooBig)
        }
    }

    @Test func refusedHandshakeSurfacesStatusHeadersAndBody() async throws {
        try await withTestServer(Self.router(Seen())) { server in
            let denied = await #expect(throws: WebSocketClientError.self) {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)/private", headers: ["Authorization": "Bearer bad"])
            }
            #expect(denied?.kind == .handshakeRefused)
            #expect(denied?.status?.code == 401)
            #expect(denied?.headers.first("content-type") == "application/json")
            let body = String(decoding: denied?.body ?? [], as: UTF8.self)
            #expect(body.contains("\"invalid_token\""), "\(body)")

            let missing = await #expect(throws: WebSocketClientError.self) {
                try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)/nowhere")
            }
            #expect(missing?.kind == .handshakeRefused)
            #expect(missing?.status?.code == 404)

            // The right token gets through.
            let ok = try await WebSocketClient.connect(url: "ws://127.0.0.1:\(server.port)/private", headers: ["Authorization": "Bearer good"])
            #expect(try await ok.receive() == nil)  // the handler returns at once: 1000
            #expect(ok.closeCode == .normalClosure)
        }
    }

    @Test func connectFailuresAreTyped() async throws {
        let dead = try unusedPort()
        let refused = await #expect(throws: WebSocketClientError.self) {
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(dead)/x", timeout: .seconds(3))
        }
        #expect(refused?.kind == .connectFailed)
        for bad in ["http://127.0.0.1:1/x", "ws://", "ws://user@host/x"] {
            let error = await #expect(throws: WebSocketClientError.self) { try await WebSocketClient.connect(url: bad) }
            #expect(error?.kind == .invalidURL, "\(bad)")
        }
        // A peer that accepts but never answers: the timeout covers the handshake.
        let silent = try RawListener()
        let started = ContinuousClock.now
        let slow = await #expect(throws: WebSocketClientError.self) {
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(silent.port)/x", timeout: .milliseconds(300))
        }
        #expect(slow?.kind == .timeout)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    /// A scripted server: fragments, pings, frames glued to the 101, then an empty close.
    @Test func rawPeerFragmentsPingsAndMasking() async throws {
        let listener = try RawListener()
        async let connecting = WebSocketClient.connect(url: "ws://127.0.0.1:\(listener.port)/raw", timeout: .seconds(5))
        let peer = try listener.accept()
        defer { close(peer) }
        let head = try readHead(peer)
        let key = try #require(head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") })
            .split(separator: ":", maxSplits: 1)[1].trimmingCharacters()
        #expect(head.hasPrefix("GET /raw HTTP/1.1\r\n"))
        var answer = Array(
            ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(WebSocketHandshake.acceptValue(forKey: String(key)))\r\n\r\n").utf8)
        // Right behind the 101: a message in three fragments with a ping in the middle.
        answer += WebSocketFrameEncoder.encode(opcode: .text, payload: Array("frag".utf8), fin: false)
        answer += WebSocketFrameEncoder.encode(opcode: .ping, payload: [9, 8, 7])
        answer += WebSocketFrameEncoder.encode(opcode: .continuation, payload: Array("men".utf8), fin: false)
        answer += WebSocketFrameEncoder.encode(opcode: .continuation, payload: Array("ted".utf8), fin: true)
        try sendAll(peer, answer)
        let ws = try await connecting
        #expect(try await ws.receive() == .text("fragmented"))

        // What the client sent back: a masked pong with the ping's bytes, then its masked message.
        try await ws.send(text: "from client")
        var parser = WebSocketFrameParser(maxFrameSize: 1 << 16, expectMasked: true)  // throws on an unmasked frame
        let pong = try #require(try nextFrame(peer, &parser))
        #expect(pong.opcode == .pong && pong.payload == [9, 8, 7])
        let text = try #require(try nextFrame(peer, &parser))
        #expect(text.opcode == .text && text.payload == Array("from client".utf8))

        // An empty close frame: answered with an empty close, the stream ends without a code.
        try sendAll(peer, WebSocketFrameEncoder.closeFrame(code: nil))
        #expect(try await ws.receive() == nil)
        #expect(ws.closeCode == nil)
        let echo = try #require(try nextFrame(peer, &parser))
        #expect(echo.opcode == .close && echo.payload.isEmpty)
    }
}

// MARK: - A raw listening socket for scripted peers

/// A listening socket on 127.0.0.1, port 0; every wait is bounded by `poll`.
final class RawListener: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw TestError("socket failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(s, 8) == 0 else {
            close(s)
            throw TestError("bind/listen failed")
        }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) }
        }
        fd = s
        port = Int(UInt16(bigEndian: addr.sin_port))
    }

    deinit { close(fd) }

    /// The next connection (within 5 s).
    func accept() throws -> Int32 {
        guard waitReadable(fd, milliseconds: 5000) else { throw TestError("no connection within 5 s") }
        let peer = Glibc.accept(fd, nil, nil)
        guard peer >= 0 else { throw TestError("accept failed") }
        return peer
    }
}

private func waitReadable(_ fd: Int32, milliseconds: Int32) -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, milliseconds) == 1
}

private func readHead(_ fd: Int32) throws -> String {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1)
    // Byte by byte, so nothing after the head is consumed.
    while !bytes.ends(with: Array("\r\n\r\n".utf8)) {
        guard waitReadable(fd, milliseconds: 5000), recv(fd, &buffer, 1, 0) == 1 else { throw TestError("no request head") }
        bytes.append(buffer[0])
    }
    return String(decoding: bytes, as: UTF8.self)
}

private func sendAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard n > 0 else { throw TestError("send failed") }
        offset += n
    }
}

private func nextFrame(_ fd: Int32, _ parser: inout WebSocketFrameParser) throws -> WebSocketFrame? {
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        if let frame = try parser.next() { return frame }
        guard waitReadable(fd, milliseconds: 5000) else { throw TestError("no frame within 5 s") }
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { return nil }
        parser.append(Array(buffer[0..<n]))
    }
}

private func unusedPort() throws -> Int {
    let listener = try RawListener()
    return listener.port  // closed when the listener goes away
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

extension Substring {
    fileprivate func trimmingCharacters() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " || s.last == "\r" { s.removeLast() }
        return s
    }
}
