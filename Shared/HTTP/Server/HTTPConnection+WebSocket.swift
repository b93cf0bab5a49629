/// Per-connection WebSocket state once upgraded (loop-confined).
final class WebSocketState {
    var parser: WebSocketFrameParser
    var assembler: WebSocketMessageAssembler
    let inbox: WebSocketInbox
    var closeSent = false
    var pingTimer: UInt64?

    init(options: WebSocketOptions, inbox: WebSocketInbox) {
        parser = WebSocketFrameParser(maxFrameSize: options.maxFrameSize, expectMasked: true)
        assembler = WebSocketMessageAssembler(maxMessageSize: options.maxMessageSize)
        self.inbox = inbox
    }
}

extension HTTPConnection {
    /// Completes the upgrade handshake and runs the handler until it returns.
    func runWebSocket(
        _ response: HTTPResponse, options: WebSocketOptions,
        handler: @Sendable (WebSocketSession) async throws -> Void, head: HTTPRequestHead
    ) async {
        let key: String
        switch WebSocketHandshake.validate(head) {
        case .success(let k):
            key = k
        case .failure(let error):
            respondWithError(status: error.status, code: error.code, message: error.message, close: true, headers: error.headers)
            return
        }
        var headers = response.headers
        headers.replaceOrAdd(name: "Upgrade", value: "websocket")
        headers.replaceOrAdd(name: "Connection", value: "Upgrade")
        headers.replaceOrAdd(name: "Sec-WebSocket-Accept", value: WebSocketHandshake.acceptValue(forKey: key))
        var out: [UInt8] = []
        context.encoder.encodeHead(
            into: &out, version: .http1_1, status: .switchingProtocols, headers: headers,
            contentLength: nil, chunked: false, keepAlive: true)
        enqueue(out)
        if isClosed { return }

        let loop = self.loop
        let inbox = WebSocketInbox(onDrained: { [self] in loop.execute { self.resumeReading() } })
        let ws = WebSocketState(options: options, inbox: inbox)
        webSocket = ws
        state = .webSocket
        isLongLived = true
        if let interval = options.pingInterval { schedulePing(every: interval) }
        // Frames that arrived right behind the handshake are already in the HTTP parser's buffer.
        let early = parser.takeBufferedBytes()
        if !early.isEmpty { early.withUnsafeBytes { webSocketReceived($0) } }
        if readingPaused { resumeReading() }

        let session = WebSocketSession(
            request: HTTPRequest(head: head, remoteAddress: remoteAddress), connection: self, inbox: inbox)
        do {
            try await handler(session)
        } catch {
            // The handler failed: close with 1011 so the client knows it was not its fault.
            await webSocketClose(code: .internalError, reason: "")
            return
        }
        await webSocketClose(code: .normalClosure, reason: "")
    }

    func webSocketReceived(_ bytes: UnsafeRawBufferPointer) {
        guard let ws = webSocket else { return }
        ws.parser.append(bytes)
        while !isClosed {
            let frame: WebSocketFrame?
            let event: WebSocketEvent?
            do {
                frame = try ws.parser.next()
                guard let frame else { return }
                event = try ws.assembler.push(frame)
            } catch {
                failWebSocket(code: error.closeCode, reason: error.message)
                return
            }
            _ = frame
            guard let event else { continue }
            switch event {
            case .text(let s):
                if ws.inbox.push(.text(s)) > WebSocketInbox.highWater { pauseReading() }
            case .binary(let b):
                if ws.inbox.push(.binary(b)) > WebSocketInbox.highWater { pauseReading() }
            case .ping(let payload):
                if !ws.closeSent { enqueue(WebSocketFrameEncoder.encode(opcode: .pong, payload: payload)) }
            case .pong:
                break
            case .close(let code, let reason):
                ws.inbox.finish(closeCode: code, reason: reason)
                if !ws.closeSent {
                    ws.closeSent = true
                    // Echo the client's code (RFC 6455 §5.5.1); none means 1000 with an empty body.
                    enqueue(WebSocketFrameEncoder.closeFrame(code: code ?? .normalClosure, reason: ""))
                }
                closeAfterFlush = true
                if pendingOutbound == 0 { close() }
                return
            }
        }
    }

    private func failWebSocket(code: WebSocketCloseCode, reason: String) {
        guard let ws = webSocket else { return }
        ws.inbox.finish(closeCode: code)
        if !ws.closeSent {
            ws.closeSent = true
            enqueue(WebSocketFrameEncoder.closeFrame(code: code, reason: String(reason.prefix(100))))
        }
        closeAfterFlush = true
        pauseReading()
        if pendingOutbound == 0 { close() }
    }

    func webSocketSend(opcode: WebSocketOpcode, payload: [UInt8]) async throws {
        // Connection state is the loop's alone: run on the loop whatever executor the caller
        // prefers, so every resumption inside (after a wait for the slow reader too) lands there.
        try await withTaskExecutorPreference(loop) { try await self.webSocketSendOnLoop(opcode: opcode, payload: payload) }
    }

    private func webSocketSendOnLoop(opcode: WebSocketOpcode, payload: [UInt8]) async throws {
        if !loop.inEventLoop { await hopToLoop() }
        guard let ws = webSocket, !ws.closeSent, !isClosed else { throw HTTPBodyWriterError.connectionClosed }
        enqueue(WebSocketFrameEncoder.encode(opcode: opcode, payload: payload))
        if isClosed { throw HTTPBodyWriterError.connectionClosed }
        if pendingOutbound > context.configuration.writeHighWatermark {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                writeWaiters.append(c)
            }
        }
    }

    /// Sends a close frame (once) and closes the socket when the client answers or after a grace time.
    func webSocketClose(code: WebSocketCloseCode, reason: String) async {
        // Connection state is the loop's alone: run on the loop whatever executor the caller
        // prefers, so every resumption inside (after a wait for the slow reader too) lands there.
        await withTaskExecutorPreference(loop) { await self.webSocketCloseOnLoop(code: code, reason: reason) }
    }

    private func webSocketCloseOnLoop(code: WebSocketCloseCode, reason: String) async {
        if !loop.inEventLoop { await hopToLoop() }
        guard let ws = webSocket, !isClosed else { return }
        if !ws.closeSent {
            ws.closeSent = true
            enqueue(WebSocketFrameEncoder.closeFrame(code: code, reason: reason))
        }
        if isClosed { return }
        loop.schedule(at: EventLoop.now + 2_000_000_000) { [self] in self.close() }
    }

    /// Server shutdown: tell the client we are going away.
    func webSocketGoingAway() {
        guard let ws = webSocket, !isClosed else { return }
        ws.inbox.finish(closeCode: nil)
        if !ws.closeSent {
            ws.closeSent = true
            enqueue(WebSocketFrameEncoder.closeFrame(code: .goingAway, reason: "server shutting down"))
        }
        closeAfterFlush = true
        if pendingOutbound == 0 { close() }
    }

    func webSocketClosed() {
        guard let ws = webSocket else { return }
        ws.inbox.finish(closeCode: nil)
        if let t = ws.pingTimer { loop.cancelTimer(t) }
        webSocket = nil
    }

    private func schedulePing(every interval: Duration) {
        let nanos = UInt64(interval.components.seconds) * 1_000_000_000 + UInt64(interval.components.attoseconds / 1_000_000_000)
        guard nanos > 0 else { return }
        webSocket?.pingTimer = loop.schedule(at: EventLoop.now + nanos) { [self] in
            guard let ws = self.webSocket, !ws.closeSent, !self.isClosed else { return }
            self.enqueue(WebSocketFrameEncoder.encode(opcode: .ping, payload: []))
            self.schedulePing(every: interval)
        }
    }
}
