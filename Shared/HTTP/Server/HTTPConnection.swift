import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

/// One accepted socket: reads and parses requests, runs the responder for each in order,
/// writes responses with backpressure, and enforces timeouts.
///
/// Concurrency: confined to its event loop. Handlers run in tasks that prefer that loop,
/// and every entry point from a task hops to the loop before touching state, which is why
/// the class can be `@unchecked Sendable`.
final class HTTPConnection: EventLoopHandler, @unchecked Sendable {
    enum State {
        /// Waiting for (or parsing) a request head.
        case idle
        /// Head parsed; collecting the body.
        case readingBody(HTTPRequestHead, [UInt8])
        /// A handler is running or its response is being written; the parser is paused.
        case responding
        /// Upgraded; bytes are WebSocket frames.
        case webSocket
        case closed
    }

    let fd: Int32
    let context: ServerLoopContext
    var loop: EventLoop { context.loop }
    let remoteAddress: String
    var registrationID: UInt32 = 0
    var parser: HTTPRequestParser
    var state: State = .idle

    // Outbound bytes not yet accepted by the kernel.
    var outbound: [UInt8] = []
    var outboundOffset = 0
    var writableInterest = false
    var readingPaused = false
    /// Close once everything queued is written.
    var closeAfterFlush = false
    /// The peer closed its side.
    var peerClosed = false
    /// Set when the server drains: the current response is the last.
    var closeAfterResponse = false
    /// SSE streams and WebSockets: ended promptly on shutdown rather than awaited.
    var isLongLived = false

    // Timers, monotonic nanoseconds; 0 = not running.
    var lastActivity: UInt64
    var requestStartedAt: UInt64 = 0
    var bodyDeadline: UInt64 = 0
    var writeStalledSince: UInt64 = 0

    var currentTask: Task<Void, Never>?
    var writeWaiters: [CheckedContinuation<Void, any Error>] = []
    var closeWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    var cancelledCloseWaiters: Set<Int> = []
    var nextCloseWaiterID = 0
    var webSocket: WebSocketState?

    init(fd: Int32, context: ServerLoopContext, remoteAddress: String) {
        self.fd = fd
        self.context = context
        self.remoteAddress = remoteAddress
        var limits = HTTPParserLimits()
        limits.maxHeaderBytes = context.configuration.maxHeaderBytes
        limits.maxHeaderCount = context.configuration.maxHeaderCount
        limits.defaultMaxBodyBytes = context.configuration.defaultMaxBodyBytes
        parser = HTTPRequestParser(limits: limits)
        lastActivity = EventLoop.now
    }

    var isClosed: Bool { if case .closed = state { return true } else { return false } }

    // MARK: Events

    func handleEvents(_ events: UInt32) {
        if events & BH_EPOLLOUT != 0 { flush() }
        if isClosed { return }
        if events & (BH_EPOLLIN | BH_EPOLLHUP | BH_EPOLLERR) != 0 { readAvailable() }
    }

    private func readAvailable() {
        let buffer = loop.readBuffer
        var reads = 0
        while reads < 4 && !readingPaused && !isClosed {
            reads += 1
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n > 0 {
                lastActivity = EventLoop.now
                received(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                if n < buffer.count { break }
            } else if n == 0 {
                peerDidClose()
                return
            } else {
                let e = errno
                if e == EINTR { continue }
                if e == EAGAIN || e == EWOULDBLOCK { break }
                close()
                return
            }
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .webSocket:
            webSocketReceived(bytes)
        case .closed:
            return
        case .responding:
            parser.append(bytes)
            if parser.bufferedBytes > context.configuration.maxPipelinedBytes { pauseReading() }
        case .idle, .readingBody:
            parser.append(bytes)
            processInbound()
        }
    }

    private func peerDidClose() {
        peerClosed = true
        switch state {
        case .idle:
            close()
        case .readingBody:
            close()
        case .responding:
            // Like nginx: a client that closes while its request runs has abandoned it.
            // Closing cancels the handler's task, so AI work stops too.
            close()
        case .webSocket:
            close()
        case .closed:
            break
        }
    }

    // MARK: Parsing

    /// Parses buffered bytes until a request is dispatched or more bytes are needed.
    func processInbound() {
        while !isClosed {
            switch state {
            case .idle, .readingBody: break
            default: return
            }
            if requestStartedAt == 0 && parser.hasStartedRequest { requestStartedAt = EventLoop.now }
            let event: HTTPParseEvent?
            do {
                event = try parser.next()
            } catch {
                respondWithError(status: error.status, code: error.code, message: error.message, close: true)
                return
            }
            guard let event else { return }
            switch event {
            case .head(let head, let framing):
                if !headReceived(head, framing: framing) { return }
            case .body(let bytes):
                if case .readingBody(let head, var body) = state {
                    state = .idle  // release the array's storage so the append does not copy
                    body.append(contentsOf: bytes)
                    state = .readingBody(head, body)
                }
            case .end:
                guard case .readingBody(let head, let body) = state else { return }
                requestStartedAt = 0
                bodyDeadline = 0
                dispatch(HTTPRequest(head: head, body: body, remoteAddress: remoteAddress))
                return
            }
        }
    }

    /// Checks limits and expectations at head time. Returns false when the connection answered and stops.
    private func headReceived(_ head: HTTPRequestHead, framing: HTTPBodyFraming) -> Bool {
        if framing != .none {
            let limit = context.responder.bodyLimit(for: head)
            parser.setBodyLimit(limit)
            if case .length(let n) = framing, n > limit {
                respondWithError(
                    status: .payloadTooLarge, code: "body_too_large",
                    message: "The request body of \(n) bytes exceeds this route's limit of \(limit) bytes.", close: true, head: head)
                return false
            }
            if let expect = head.headers.first("expect") {
                if expect.lowercased() == "100-continue" {
                    if head.version == .http1_1 { enqueue(Self.continueLine) }
                } else {
                    respondWithError(
                        status: .expectationFailed, code: "expectation_failed",
                        message: "Only the expectation 100-continue is supported.", close: true, head: head)
                    return false
                }
            }
            bodyDeadline = EventLoop.now + context.bodyTimeoutNanos
        }
        state = .readingBody(head, [])
        return true
    }

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    // MARK: Dispatch

    private func dispatch(_ request: HTTPRequest) {
        state = .responding
        context.requestStarted()
        let responder = context.responder
        currentTask = Task(executorPreference: loop) { [self] in
            let response = await responder.respond(to: request)
            await self.send(response, for: request.head)
            self.context.requestFinished()
        }
    }

    /// Writes `response`; for streams and WebSockets, runs their producer to the end.
    private func send(_ response: HTTPResponse, for head: HTTPRequestHead) async {
        if !loop.inEventLoop { await hopToLoop() }
        if isClosed { return }
        let keepAlive = head.keepAlive && !closeAfterResponse && !peerClosed && !context.isDraining
        let headOnly = head.method == .head
        switch response.body {
        case .empty, .bytes:
            var bytes: [UInt8] = []
            if case .bytes(let b) = response.body { bytes = b }
            var out: [UInt8] = []
            let noBody = ResponseEncoder.forbidsBody(status: response.status.code, method: head.method)
            out.reserveCapacity(256 + (headOnly || noBody ? 0 : bytes.count))
            context.encoder.encodeHead(
                into: &out, version: head.version, status: response.status, headers: response.headers,
                contentLength: noBody ? nil : bytes.count, chunked: false, keepAlive: keepAlive)
            if !headOnly && !noBody { out.append(contentsOf: bytes) }
            enqueue(out)
            responseComplete(keepAlive: keepAlive)
        case .stream(let producer):
            await sendStream(response, producer: producer, head: head, keepAlive: keepAlive)
        case .webSocket(let options, let handler):
            await runWebSocket(response, options: options, handler: handler, head: head)
        }
    }

    private func sendStream(
        _ response: HTTPResponse, producer: @Sendable (HTTPBodyWriter) async throws -> Void,
        head: HTTPRequestHead, keepAlive requestedKeepAlive: Bool
    ) async {
        let chunked = head.version == .http1_1
        // HTTP/1.0 has no chunked coding: the body ends when the connection does.
        let keepAlive = requestedKeepAlive && chunked
        isLongLived = response.headers.first("content-type")?.hasPrefix("text/event-stream") ?? false
        var out: [UInt8] = []
        context.encoder.encodeHead(
            into: &out, version: head.version, status: response.status, headers: response.headers,
            contentLength: nil, chunked: chunked, keepAlive: keepAlive)
        enqueue(out)
        if isLongLived && context.isDraining {
            responseComplete(keepAlive: false)
            return
        }
        let writer = HTTPBodyWriter(connection: self, chunked: chunked && head.method != .head, discard: head.method == .head)
        do {
            try await producer(writer)
            if !loop.inEventLoop { await hopToLoop() }
            if isClosed { return }
            if chunked { enqueue(Self.lastChunk) }
            responseComplete(keepAlive: keepAlive)
        } catch let error as HTTPBodyWriterError where error == .shuttingDown {
            if !loop.inEventLoop { await hopToLoop() }
            if isClosed { return }
            if chunked { enqueue(Self.lastChunk) }
            responseComplete(keepAlive: false)
        } catch {
            // A producer failed mid-body: the only honest signal left is to cut the connection.
            if !loop.inEventLoop { await hopToLoop() }
            close()
        }
    }

    private static let lastChunk = Array("0\r\n\r\n".utf8)

    /// Called when a response is fully queued: continue with pipelined requests or close.
    private func responseComplete(keepAlive: Bool) {
        currentTask = nil
        isLongLived = false
        if isClosed { return }
        if !keepAlive || peerClosed || closeAfterResponse {
            closeAfterFlush = true
            if outboundOffset >= outbound.count { close() }
            return
        }
        state = .idle
        lastActivity = EventLoop.now
        if readingPaused { resumeReading() }
        if parser.bufferedBytes > 0 { processInbound() }
    }

    /// Answers with a JSON error from the connection layer (parse errors, limits, timeouts).
    func respondWithError(
        status: HTTPStatus, code: String, message: String, close shouldClose: Bool, headers extra: HTTPHeaders = HTTPHeaders(),
        head: HTTPRequestHead? = nil
    ) {
        var out: [UInt8] = []
        let body = context.responder.connectionErrorBody(for: head, status: status, code: code, message: message)
        var headers = extra
        headers.replaceOrAdd(name: "Content-Type", value: "application/json")
        context.encoder.encodeHead(
            into: &out, version: .http1_1, status: status, headers: headers,
            contentLength: body.count, chunked: false, keepAlive: !shouldClose)
        out.append(contentsOf: body)
        context.countConnectionError(status: status.code)
        state = .responding
        enqueue(out)
        if shouldClose {
            closeAfterFlush = true
            pauseReading()
            if outboundOffset >= outbound.count { close() }
        }
    }

    func hopToLoop() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            loop.execute { c.resume() }
        }
    }

    // MARK: Timeouts

    /// Called by the loop's sweep timer.
    func checkTimeouts(now: UInt64) {
        let config = context
        switch state {
        case .idle:
            if requestStartedAt != 0 {
                if now - requestStartedAt > config.headerTimeoutNanos {
                    respondWithError(
                        status: .requestTimeout, code: "header_timeout",
                        message: "The request head did not arrive in time.", close: true)
                }
            } else if parser.bufferedBytes == 0 && now - lastActivity > config.idleTimeoutNanos {
                close()
            }
        case .readingBody:
            if bodyDeadline != 0 && now > bodyDeadline {
                respondWithError(
                    status: .requestTimeout, code: "body_timeout",
                    message: "The request body did not arrive in time.", close: true)
            }
        case .responding, .webSocket:
            if writeStalledSince != 0 && now - writeStalledSince > config.writeTimeoutNanos {
                close()
            }
        case .closed:
            break
        }
    }

    // MARK: Close

    /// Closes at once: fails waiting writers, cancels the handler, releases the socket.
    func close() {
        if isClosed { return }
        state = .closed
        // Counted out before the fd closes, so anyone who sees the close also sees the count.
        context.connectionClosed(self)
        loop.deregister(fd: fd)
        Glibc.close(fd)
        outbound = []
        outboundOffset = 0
        currentTask?.cancel()
        currentTask = nil
        let waiters = writeWaiters
        writeWaiters = []
        for w in waiters { w.resume(throwing: HTTPBodyWriterError.connectionClosed) }
        let closers = closeWaiters.values
        closeWaiters = [:]
        for c in closers { c.resume() }
        webSocketClosed()
    }

    /// Graceful shutdown: idle connections close now, busy ones after their response,
    /// long-lived streams are ended.
    func beginDrain() {
        closeAfterResponse = true
        switch state {
        case .idle:
            if !parser.hasStartedRequest { close() }
        case .webSocket:
            webSocketGoingAway()
        case .responding where isLongLived:
            let waiters = writeWaiters
            writeWaiters = []
            shuttingDown = true
            for w in waiters { w.resume(throwing: HTTPBodyWriterError.shuttingDown) }
        default:
            break
        }
    }

    /// Set during drain so streaming writers stop with `.shuttingDown`.
    var shuttingDown = false
}
