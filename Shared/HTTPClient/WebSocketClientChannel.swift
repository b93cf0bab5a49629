import BulkheadCrypto
import BulkheadHTTP
import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

/// The I/O side of one WebSocket client connection: resolves and connects (each address in
/// turn, like `ClientConnection`), runs TLS for `wss`, sends the upgrade request, checks the
/// 101, then reads frames into the inbox (masking what it sends, answering pings, running the
/// closing handshake) and writes with backpressure.
///
/// Concurrency: confined to its event loop; every entry point runs there, which is why the
/// class is `@unchecked Sendable`. The codec (`WebSocketFrameParser`, `WebSocketMessageAssembler`,
/// `WebSocketFrameEncoder`) and the transports (`PlainTransport`, `TLSTransport`) are shared
/// with the server and the HTTP client.
final class WebSocketClientChannel: EventLoopHandler, @unchecked Sendable {
    enum State: Equatable {
        case resolving
        case connecting
        case tlsHandshaking
        /// The upgrade request is out; waiting for the answer.
        case upgrading
        case open
        case closed
    }

    /// What the opening handshake yields.
    struct Opened: Sendable {
        var subprotocol: String?
        var headers: HTTPHeaders
    }

    let loop: EventLoop
    let url: HTTPClientURL
    let configuration: WebSocketClient.Configuration
    let inbox: WebSocketClientInbox
    private let handshake: WebSocketClientHandshake
    private let requestBytes: [UInt8]
    private(set) var state = State.resolving

    private var fd: Int32 = -1
    private var registrationID: UInt32 = 0
    private var registeredEvents: UInt32 = 0
    private var transport: (any ClientTransport)?
    private var attempts = ConnectAttempts()
    private var tlsWants: UInt32 = BH_EPOLLOUT
    private var openingTimer: UInt64?
    private var aborted = false

    // The opening handshake.
    private var opening: CheckedContinuation<Opened, any Error>?
    private var responseParser: HTTPResponseParser
    private var refusalHead: HTTPResponseHead?
    private var refusalBody: [UInt8] = []

    // Frames.
    private var frameParser: WebSocketFrameParser
    private var assembler: WebSocketMessageAssembler
    private var outbound: [UInt8] = []
    private var outboundOffset = 0
    private var writeWants: UInt32 = 0
    private var readWantsWrite = false
    private var readingPaused = false
    private var closeSent = false
    private var closeReceived = false
    private var closeAfterFlush = false
    private var closeTimer: UInt64?
    private var writeWaiters: [CheckedContinuation<Void, any Error>] = []
    private var closedWaiters: [CheckedContinuation<Void, Never>] = []

    init(
        loop: EventLoop, url: HTTPClientURL, configuration: WebSocketClient.Configuration, handshake: WebSocketClientHandshake,
        requestBytes: [UInt8]
    ) {
        self.loop = loop
        self.url = url
        self.configuration = configuration
        self.handshake = handshake
        self.requestBytes = requestBytes
        var limits = HTTPParserLimits()
        limits.maxHeaderBytes = max(256, configuration.maxResponseHeadBytes)
        limits.defaultMaxBodyBytes = Int.max
        responseParser = HTTPResponseParser(limits: limits)
        frameParser = WebSocketFrameParser(maxFrameSize: configuration.maxFrameSize, expectMasked: false)
        assembler = WebSocketMessageAssembler(maxMessageSize: configuration.maxMessageSize)
        let box = WeakChannel()
        inbox = WebSocketClientInbox(capacity: configuration.receiveQueueMessages) {
            loop.execute { box.channel?.resumeReading() }
        }
        box.channel = self
    }

    /// Lets the inbox reach its channel without keeping it alive.
    private final class WeakChannel: @unchecked Sendable {
        weak var channel: WebSocketClientChannel?
    }

    private var pendingOutbound: Int { outbound.count - outboundOffset }

    // MARK: Opening

    /// Starts connecting; `continuation` gets the handshake's outcome (within `timeoutNanos`).
    func start(_ continuation: CheckedContinuation<Opened, any Error>, timeoutNanos: UInt64) {
        assert(loop.inEventLoop)
        opening = continuation
        if aborted {
            failOpening(WebSocketClientError(.cancelled, "the connection to \(url) was cancelled"))
            return
        }
        let now = EventLoop.now
        openingTimer = loop.schedule(at: now &+ timeoutNanos < now ? UInt64.max / 2 : now &+ timeoutNanos) { [weak self] in
            guard let self, openingTimer != nil else { return }
            openingTimer = nil
            failOpening(WebSocketClientError(.timeout, "opening \(url) took longer than \(formatNanoseconds(timeoutNanos))"))
        }
        AddressResolver.resolve(url.host) { [self] result in
            loop.execute { self.resolved(result) }
        }
    }

    private func resolved(_ result: Result<[ResolvedAddress], HTTPClientError>) {
        guard state == .resolving, opening != nil else { return }
        switch result {
        case .success(let list):
            attempts.start(list)
            connectNextAddress()
        case .failure(let error):
            failOpening(WebSocketClientError(error))
        }
    }

    private func connectNextAddress() {
        while let s = attempts.nextSocket(port: url.port) {
            do {
                registrationID = try loop.register(fd: s, events: BH_EPOLLOUT, handler: self)
            } catch {
                Glibc.close(s)
                attempts.failed("\(error)")
                continue
            }
            fd = s
            registeredEvents = BH_EPOLLOUT
            state = .connecting
            return  // EPOLLOUT reports the outcome
        }
        failOpening(WebSocketClientError(.connectFailed, "could not connect to \(url): \(attempts.lastError)"))
    }

    private func connectCompleted() {
        let error = bh_socket_error(fd)
        if error != 0 {
            attempts.failed(String(cString: strerror(error)), fallback: url.host)
            closeSocket()
            state = .resolving
            connectNextAddress()
            return
        }
        _ = bh_set_nodelay(fd)
        guard url.scheme == .https else {
            transport = PlainTransport(fd: fd)
            sendUpgrade()
            return
        }
        do {
            let context = try configuration.tlsContext ?? TLSClientContext()
            transport = try TLSTransport(context: context, fd: fd, serverName: url.host)
        } catch let error as HTTPClientError {
            failOpening(WebSocketClientError(error))
            return
        } catch {
            failOpening(WebSocketClientError(.tlsFailed, "could not set up TLS for \(url.host): \(error)"))
            return
        }
        state = .tlsHandshaking
        continueTLS()
    }

    private func continueTLS() {
        guard let transport else { return }
        switch transport.handshake() {
        case .done:
            sendUpgrade()
        case .wantRead:
            tlsWants = BH_EPOLLIN
            updateInterest()
        case .wantWrite:
            tlsWants = BH_EPOLLOUT
            updateInterest()
        case .closed:
            failOpening(WebSocketClientError(.tlsFailed, "the server closed the connection during the TLS handshake"))
        case .failed(let error):
            failOpening(WebSocketClientError(error))
        }
    }

    private func sendUpgrade() {
        state = .upgrading
        updateInterest()
        enqueue(requestBytes)
        if state == .upgrading, transport?.buffersInput == true { readAvailable() }
    }

    /// Parses the answer to the upgrade request.
    private func processUpgrade() {
        while state == .upgrading {
            let event: HTTPResponseParseEvent?
            do {
                event = try responseParser.next()
            } catch {
                failOpening(WebSocketClientError(.handshakeFailed, "invalid answer to the upgrade from \(url): \(error.message)"))
                return
            }
            guard let event else { return }
            switch event {
            case .head(let head, _):
                if refusalHead == nil && head.status.code == 101 {
                    upgraded(head)
                    return
                }
                if head.isInformational { continue }  // e.g. 100; its end follows
                refusalHead = head
            case .body(let bytes):
                guard refusalHead != nil else { continue }
                let room = max(0, configuration.maxRefusalBodyBytes - refusalBody.count)
                refusalBody.append(contentsOf: bytes.prefix(room))
                if bytes.count >= room {
                    refused()  // enough for the caller; the rest is not read
                    return
                }
            case .end:
                if refusalHead != nil {
                    refused()
                    return
                }
            }
        }
    }

    private func upgraded(_ head: HTTPResponseHead) {
        switch handshake.validateResponse(status: head.status, headers: head.headers) {
        case .failure(let error):
            failOpening(
                WebSocketClientError(.handshakeFailed, "bad upgrade answer from \(url): \(error.message)", status: head.status, headers: head.headers))
        case .success(let subprotocol):
            let early = responseParser.takeBufferedBytes()
            state = .open
            cancelOpeningTimer()
            let waiter = opening
            opening = nil
            waiter?.resume(returning: Opened(subprotocol: subprotocol, headers: head.headers))
            // Frames that came right behind the 101.
            if !early.isEmpty {
                frameParser.append(early)
                processFrames()
            }
        }
    }

    private func refused() {
        guard let head = refusalHead else { return }
        failOpening(
            WebSocketClientError(
                .handshakeRefused, "\(url) refused the upgrade with \(head.status)", status: head.status, headers: head.headers,
                body: refusalBody))
    }

    private func failOpening(_ error: WebSocketClientError) {
        guard let waiter = opening else { return }
        opening = nil
        inbox.finish(.failed(error))
        teardown()
        waiter.resume(throwing: error)
    }

    private func cancelOpeningTimer() {
        if let openingTimer {
            loop.cancelTimer(openingTimer)
            self.openingTimer = nil
        }
    }

    // MARK: Events

    func handleEvents(_ events: UInt32) {
        switch state {
        case .connecting:
            connectCompleted()
        case .tlsHandshaking:
            continueTLS()
        case .upgrading, .open:
            if pendingOutbound > 0 { flush() }
            guard state == .upgrading || state == .open else { return }
            let hangup = events & (BH_EPOLLERR | BH_EPOLLHUP) != 0
            if !readingPaused || hangup { readAvailable(force: hangup) }
        case .resolving, .closed:
            break
        }
    }

    private func readAvailable(force: Bool = false) {
        guard let transport else { return }
        let buffer = loop.readBuffer
        var reads = 0
        while state == .upgrading || state == .open, !readingPaused || force {
            reads += 1
            if reads > 16 {
                // Fairness: other sockets of this loop get their turn.
                loop.execute { [self] in
                    if state == .upgrading || state == .open, !readingPaused { readAvailable() }
                }
                return
            }
            switch transport.read(into: buffer) {
            case .done(let n):
                if n == 0 { return }
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
                if state == .upgrading {
                    responseParser.append(bytes)
                    processUpgrade()
                } else {
                    frameParser.append(bytes)
                    processFrames()
                }
                if !transport.buffersInput && n < buffer.count { return }
            case .wantRead:
                if readWantsWrite {
                    readWantsWrite = false
                    updateInterest()
                }
                return
            case .wantWrite:
                readWantsWrite = true
                updateInterest()
                return
            case .closed:
                endOfInput()
                return
            case .failed(let error):
                fail(WebSocketClientError(error))
                return
            }
        }
    }

    /// Turns buffered bytes into messages and control answers, until paused or closed.
    private func processFrames() {
        while state == .open && !readingPaused {
            let event: WebSocketEvent?
            do {
                guard let frame = try frameParser.next() else { return }
                event = try assembler.push(frame)
            } catch {
                protocolFailure(error)
                return
            }
            guard let event else { continue }
            switch event {
            case .text(let text):
                deliver(.text(text))
            case .binary(let bytes):
                deliver(.binary(bytes))
            case .ping(let payload):
                if !closeSent { enqueue(WebSocketFrameEncoder.encode(opcode: .pong, payload: payload, maskingKey: Self.mask())) }
            case .pong:
                break
            case .close(let code, let reason):
                closeReceived = true
                inbox.finish(.closed(code, reason))
                if !closeSent {
                    closeSent = true
                    // Echo the server's code (RFC 6455 §5.5.1); an empty close is answered empty.
                    enqueue(WebSocketFrameEncoder.closeFrame(code: code, reason: "", maskingKey: Self.mask()))
                }
                finishAfterFlush()
                return
            }
        }
    }

    private func deliver(_ message: WebSocketMessage) {
        // After our close frame the application said it is done: drop what is still in flight.
        if closeSent { return }
        if inbox.push(message) { pauseReading() }
    }

    private func protocolFailure(_ error: WebSocketProtocolError) {
        inbox.finish(
            .failed(WebSocketClientError(.protocolError, "\(url) broke the WebSocket protocol: \(error.message)", closeCode: error.closeCode)))
        if !closeSent {
            closeSent = true
            enqueue(WebSocketFrameEncoder.closeFrame(code: error.closeCode, reason: error.message, maskingKey: Self.mask()))
        }
        finishAfterFlush()
    }

    /// EOF from the server.
    private func endOfInput() {
        if state == .upgrading {
            if refusalHead != nil {
                refused()
            } else {
                failOpening(WebSocketClientError(.handshakeFailed, "\(url) closed the connection before answering the upgrade"))
            }
            return
        }
        if closeSent || closeReceived {
            inbox.finish(.closed(nil, ""))
            teardown()
            return
        }
        fail(WebSocketClientError(.connectionClosed, "\(url) closed the connection without a close frame"))
    }

    /// The connection broke: fail the opening, or end the message stream with `error`.
    private func fail(_ error: WebSocketClientError) {
        if opening != nil {
            failOpening(error)
            return
        }
        inbox.finish(.failed(error))
        teardown()
    }

    /// The consumer caught up: read again.
    func resumeReading() {
        guard readingPaused, state == .open else { return }
        readingPaused = false
        updateInterest()
        processFrames()  // frames may already be buffered
        if state == .open, !readingPaused { readAvailable() }
    }

    private func pauseReading() {
        if readingPaused { return }
        readingPaused = true
        updateInterest()
    }

    // MARK: Sending

    /// Queues a masked data frame; `continuation` resumes once it is queued below the write
    /// watermark (backpressure), or throws when the connection is closing.
    func send(opcode: WebSocketOpcode, payload: [UInt8], continuation: CheckedContinuation<Void, any Error>) {
        guard state == .open, !closeSent else {
            continuation.resume(throwing: WebSocketClientError(.connectionClosed, "the connection to \(url) is closed or closing"))
            return
        }
        enqueue(WebSocketFrameEncoder.encode(opcode: opcode, payload: payload, maskingKey: Self.mask()))
        guard state == .open else {
            continuation.resume(throwing: WebSocketClientError(.connectionClosed, "the connection to \(url) was closed"))
            return
        }
        if pendingOutbound > configuration.writeHighWatermark {
            writeWaiters.append(continuation)
        } else {
            continuation.resume()
        }
    }

    /// Starts the closing handshake (once); `done` resumes when the socket is closed: the
    /// server answered, or `closeTimeout` passed.
    func close(code: WebSocketCloseCode?, reason: String, done: CheckedContinuation<Void, Never>) {
        if state == .closed {
            done.resume()
            return
        }
        closedWaiters.append(done)
        guard state == .open else {
            // Still opening: nothing to close gracefully.
            aborted = true
            fail(WebSocketClientError(.cancelled, "the connection to \(url) was closed while opening"))
            return
        }
        if !closeSent {
            closeSent = true
            enqueue(WebSocketFrameEncoder.closeFrame(code: code, reason: reason, maskingKey: Self.mask()))
        }
        // Keep reading (messages are dropped now) so the server's close frame is seen.
        if readingPaused {
            readingPaused = false
            updateInterest()
            processFrames()
        }
        armCloseTimer()
    }

    /// Closes at once without a closing handshake.
    func abort(_ error: WebSocketClientError) {
        aborted = true
        if state == .closed { return }
        fail(error)
    }

    private func finishAfterFlush() {
        closeAfterFlush = true
        if pendingOutbound == 0 {
            teardown()
        } else {
            armCloseTimer()
        }
    }

    private func armCloseTimer() {
        guard closeTimer == nil, state != .closed else { return }
        closeTimer = loop.schedule(at: EventLoop.now &+ configuration.closeTimeout.clientNanoseconds) { [weak self] in
            guard let self else { return }
            closeTimer = nil
            if state == .closed { return }
            inbox.finish(.closed(nil, ""))
            teardown()
        }
    }

    private static func mask() -> WebSocketFrameEncoder.MaskingKey { WebSocketFrameEncoder.randomMaskingKey() }

    // MARK: Writing

    private func enqueue(_ bytes: [UInt8]) {
        guard state != .closed else { return }
        if outboundOffset == outbound.count {
            outbound = bytes
            outboundOffset = 0
        } else {
            if outboundOffset > 64 * 1024 && outboundOffset > outbound.count / 2 {
                outbound.removeFirst(outboundOffset)
                outboundOffset = 0
            }
            outbound.append(contentsOf: bytes)
        }
        flush()
    }

    private func flush() {
        guard let transport else { return }
        while outboundOffset < outbound.count {
            let result = outbound.withUnsafeBytes { raw in
                transport.write(UnsafeRawBufferPointer(rebasing: raw[outboundOffset...]))
            }
            switch result {
            case .done(let n):
                outboundOffset += n
            case .wantWrite:
                setWriteWants(BH_EPOLLOUT)
                resumeWriters()
                return
            case .wantRead:
                setWriteWants(BH_EPOLLIN)
                resumeWriters()
                return
            case .closed:
                fail(WebSocketClientError(.connectionClosed, "\(url) closed the connection"))
                return
            case .failed(let error):
                fail(WebSocketClientError(error))
                return
            }
        }
        outbound = []
        outboundOffset = 0
        setWriteWants(0)
        resumeWriters()
        if closeAfterFlush { teardown() }
    }

    private func resumeWriters() {
        guard !writeWaiters.isEmpty, pendingOutbound <= configuration.writeHighWatermark else { return }
        let waiters = writeWaiters
        writeWaiters = []
        for w in waiters { w.resume() }
    }

    private func setWriteWants(_ events: UInt32) {
        if writeWants != events {
            writeWants = events
            updateInterest()
        }
    }

    private func updateInterest() {
        guard fd >= 0 else { return }
        var events: UInt32 = 0
        switch state {
        case .connecting: events = BH_EPOLLOUT
        case .tlsHandshaking: events = tlsWants
        case .upgrading, .open:
            if !readingPaused { events |= BH_EPOLLIN }
            if readWantsWrite { events |= BH_EPOLLOUT }
            events |= writeWants
        case .resolving, .closed: return
        }
        if events != registeredEvents {
            registeredEvents = events
            loop.modify(fd: fd, registrationID: registrationID, events: events)
        }
    }

    // MARK: Closing

    /// Releases everything; waiting senders fail, close waiters resume.
    private func teardown() {
        if state == .closed { return }
        state = .closed
        cancelOpeningTimer()
        if let closeTimer {
            loop.cancelTimer(closeTimer)
            self.closeTimer = nil
        }
        closeSocket()
        transport = nil
        outbound = []
        outboundOffset = 0
        inbox.finish(.failed(WebSocketClientError(.connectionClosed, "the connection to \(url) was closed")))
        let writers = writeWaiters
        writeWaiters = []
        for w in writers { w.resume(throwing: WebSocketClientError(.connectionClosed, "the connection to \(url) was closed")) }
        let closers = closedWaiters
        closedWaiters = []
        for c in closers { c.resume() }
    }

    private func closeSocket() {
        guard fd >= 0 else { return }
        if let tls = transport as? TLSTransport { tls.sendCloseNotify() }
        loop.deregister(fd: fd)
        Glibc.close(fd)
        fd = -1
        registeredEvents = 0
    }
}
