import BulkheadCrypto
import BulkheadHTTP
import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

/// One client socket: resolves and connects (trying each address in turn), runs the TLS
/// handshake for https, then carries one exchange at a time — writes the request, parses
/// the response, streams the body with backpressure — and goes back to the pool when the
/// response ended cleanly with keep-alive.
///
/// Concurrency: confined to the client's event loop; every entry point (pool, exchange,
/// epoll events, timers) runs on that thread, which is why the class is `@unchecked Sendable`.
final class ClientConnection: EventLoopHandler, @unchecked Sendable {
    enum State {
        case resolving
        case connecting
        case handshaking
        /// In the pool, waiting for an exchange.
        case idle
        /// Carrying `exchange`.
        case active
        case closed
    }

    let key: PoolKey
    let pool: ConnectionPool
    var loop: EventLoop { pool.loop }
    private(set) var state = State.resolving

    private var fd: Int32 = -1
    private var registrationID: UInt32 = 0
    private var registeredEvents: UInt32 = 0
    private var transport: (any ClientTransport)?
    private var exchange: ClientExchange?

    // Connecting.
    private var attempts = ConnectAttempts()
    private var connectTimer: UInt64?
    private var handshakeWants: UInt32 = BH_EPOLLOUT

    // The current exchange.
    private var parser: HTTPResponseParser
    private var outbound: [UInt8] = []
    private var outboundOffset = 0
    private var writeWants: UInt32 = 0
    private var readWantsWrite = false
    private var readingPaused = false
    private var writeFailed = false
    private var receivedBytes = false
    private var headDelivered = false
    private var interimResponse = false
    private var responseKeepAlive = true
    private var responseFraming = HTTPResponseFraming.none

    // Reuse.
    private(set) var exchangesCompleted = 0
    private var idleTimer: UInt64?

    init(key: PoolKey, pool: ConnectionPool) {
        self.key = key
        self.pool = pool
        parser = HTTPResponseParser(limits: pool.settings.parserLimits)
    }

    private var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    // MARK: Connecting

    /// Starts resolving and connecting on behalf of `exchange` (its owner until established).
    func connect(for exchange: ClientExchange) {
        self.exchange = exchange
        exchange.connecting(on: self)
        let timeout = pool.settings.connectTimeoutNanos
        connectTimer = pool.deadlines.schedule(after: timeout) { [weak self] in
            guard let self else { return }
            connectTimer = nil
            switch state {
            case .resolving, .connecting, .handshaking:
                failConnect(
                    HTTPClientError(.connectTimeout, "connecting to \(key) took longer than \(formatNanoseconds(timeout))"))
            default:
                break
            }
        }
        let loop = self.loop
        AddressResolver.resolve(key.host) { [self] result in
            // Always completes on a later loop turn: no re-entrancy into the pool.
            loop.execute { self.resolved(result) }
        }
    }

    private func resolved(_ result: Result<[ResolvedAddress], HTTPClientError>) {
        guard case .resolving = state else { return }
        switch result {
        case .success(let list):
            attempts.start(list)
            connectNextAddress()
        case .failure(let error):
            failConnect(error)
        }
    }

    private func connectNextAddress() {
        while let s = attempts.nextSocket(port: key.port) {
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
            return  // EPOLLOUT reports the outcome (at once if already connected)
        }
        failConnect(HTTPClientError(.connectFailed, "could not connect to \(key): \(attempts.lastError)"))
    }

    private func connectCompleted() {
        let error = bh_socket_error(fd)
        if error != 0 {
            attempts.failed(String(cString: strerror(error)), fallback: key.host)
            closeSocket()
            state = .resolving  // not closed: try the next address
            connectNextAddress()
            return
        }
        _ = bh_set_nodelay(fd)
        if key.scheme == .https {
            switch pool.tls.context() {
            case .failure(let e):
                failConnect(e)
                return
            case .success(let ctx):
                do {
                    transport = try TLSTransport(context: ctx, fd: fd, serverName: key.host)
                } catch {
                    failConnect(error)
                    return
                }
            }
            state = .handshaking
            continueHandshake()
        } else {
            transport = PlainTransport(fd: fd)
            established()
        }
    }

    private func continueHandshake() {
        guard let transport else { return }
        switch transport.handshake() {
        case .done:
            established()
        case .wantRead:
            handshakeWants = BH_EPOLLIN
            updateInterest()
        case .wantWrite:
            handshakeWants = BH_EPOLLOUT
            updateInterest()
        case .closed:
            failConnect(HTTPClientError(.tlsFailed, "the server closed the connection during the TLS handshake"))
        case .failed(let error):
            failConnect(error)
        }
    }

    private func established() {
        if let connectTimer {
            pool.deadlines.cancel(connectTimer)
            self.connectTimer = nil
        }
        guard let owner = exchange, !owner.isFinished else {
            // The request gave up while we connected; serve the queue or idle.
            exchange = nil
            state = .idle
            updateInterest()
            pool.release(self)
            return
        }
        run(owner)
    }

    /// Connecting failed: the owner fails with `error`, the slot is freed.
    private func failConnect(_ error: HTTPClientError) {
        if isClosed { return }
        let owner = exchange
        exchange = nil
        teardown()
        pool.connectionClosed(self)
        owner?.fail(error)
    }

    // MARK: Exchanges

    /// Sends `exchange`'s request on this (connected, idle) connection.
    func run(_ exchange: ClientExchange) {
        assert(loop.inEventLoop)
        if let idleTimer {
            pool.deadlines.cancel(idleTimer)
            self.idleTimer = nil
        }
        state = .active
        self.exchange = exchange
        exchange.running(on: self)
        parser.expectResponse(toHEAD: exchange.isHEAD)
        outbound = exchange.requestBytes
        outboundOffset = 0
        writeWants = 0
        readWantsWrite = false
        readingPaused = false
        writeFailed = false
        receivedBytes = false
        headDelivered = false
        interimResponse = false
        responseKeepAlive = true
        responseFraming = .none
        flush()
        if state == .active {
            updateInterest()
            // TLS may hold decrypted bytes already (a response racing the request).
            if transport?.buffersInput == true { readAvailable() }
        }
    }

    /// Enters the pool's idle list: watches for the server closing, starts the idle timer.
    func becomeIdle() {
        state = .idle
        exchange = nil
        outbound = []
        outboundOffset = 0
        readingPaused = false
        updateInterest()
        idleTimer = pool.deadlines.schedule(after: pool.settings.idleTimeoutNanos) { [weak self] in
            guard let self else { return }
            idleTimer = nil
            if case .idle = state { close() }
        }
    }

    /// The exchange gave up (deadline, cancellation, body dropped): close the connection.
    func exchangeAborted(_ aborted: ClientExchange) {
        guard exchange === aborted else { return }
        exchange = nil
        close()
    }

    /// The body consumer caught up: read again.
    func resumeReading(for requester: ClientExchange) {
        guard exchange === requester, readingPaused, case .active = state else { return }
        readingPaused = false
        updateInterest()
        // Bytes may already be waiting in the parser or inside TLS.
        processInbound()
        if case .active = state, !readingPaused { readAvailable() }
    }

    // MARK: Events

    func handleEvents(_ events: UInt32) {
        switch state {
        case .connecting:
            connectCompleted()
        case .handshaking:
            continueHandshake()
        case .idle:
            idleEvent()
        case .active:
            if outboundOffset < outbound.count && !writeFailed { flush() }
            guard case .active = state else { return }
            let errorOrHangup = events & (BH_EPOLLERR | BH_EPOLLHUP) != 0
            if !readingPaused || errorOrHangup { readAvailable(force: errorOrHangup) }
        case .resolving, .closed:
            break
        }
    }

    /// While idle the server may only close: EOF, a reset or stray bytes all retire the connection.
    private func idleEvent() {
        guard let transport else {
            close()
            return
        }
        switch transport.read(into: loop.readBuffer) {
        case .wantRead:
            return  // e.g. a TLS 1.3 session ticket: no application data
        case .wantWrite:
            return
        case .done, .closed, .failed:
            close()
        }
    }

    private func readAvailable(force: Bool = false) {
        guard let transport else { return }
        let buffer = loop.readBuffer
        var reads = 0
        while case .active = state, !readingPaused || force {
            reads += 1
            if reads > 16 {
                // Fairness: let other sockets run, continue on the next turn.
                loop.execute { [self] in
                    if case .active = state, !readingPaused { readAvailable() }
                }
                return
            }
            switch transport.read(into: buffer) {
            case .done(let n):
                if n == 0 { return }
                receivedBytes = true
                parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
                processInbound()
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
                connectionLost(error)
                return
            }
        }
    }

    /// Drains parser events into the exchange.
    private func processInbound() {
        while case .active = state, let exchange, !readingPaused {
            let event: HTTPResponseParseEvent?
            do {
                event = try parser.next()
            } catch {
                connectionLost(Self.clientError(error, key: key))
                return
            }
            guard let event else { return }
            handle(event, exchange)
        }
    }

    private func handle(_ event: HTTPResponseParseEvent, _ exchange: ClientExchange) {
        switch event {
        case .head(let head, let framing):
            if head.isInformational && head.status.code != 101 {
                interimResponse = true
                return
            }
            responseKeepAlive = head.keepAlive && head.status.code != 101
            responseFraming = framing
            headDelivered = true
            exchange.deliverHead(head, framing: framing, connection: self)
        case .body(let bytes):
            if !exchange.deliverBody(bytes) { pauseReading() }
        case .end:
            if interimResponse {
                interimResponse = false
                return
            }
            responseComplete(exchange)
        }
    }

    private func responseComplete(_ finished: ClientExchange) {
        // Reusable only if the server keeps it open, the body had its own framing, the whole
        // request went out (an early answer leaves the server expecting the rest) and no
        // stray bytes follow the response.
        let reusable = responseKeepAlive && responseFraming != .untilClose && !finished.closeAfterResponse
            && outboundOffset >= outbound.count && !writeFailed && parser.isAtResponseBoundary
        exchange = nil
        exchangesCompleted += 1
        finished.complete()
        if isClosed { return }
        if reusable {
            outbound = []
            outboundOffset = 0
            pool.release(self)
        } else {
            close()
        }
    }

    /// EOF from the server while active.
    private func endOfInput() {
        guard case .active = state, let exchange else { return }
        if headDelivered && responseFraming == .untilClose {
            do {
                var event = try parser.finish()
                while let e = event, case .active = state {
                    handle(e, exchange)
                    event = self.exchange === exchange ? try parser.next() : nil
                }
            } catch {
                connectionLost(Self.clientError(error, key: key))
                return
            }
            if case .active = state { close() }
            return
        }
        let message = headDelivered
            ? "the server closed the connection before the response body was complete"
            : "the server closed the connection before sending a response"
        connectionLost(HTTPClientError(.connectionClosed, message))
    }

    /// The connection broke while active: retry an idempotent request that got no byte of
    /// response on a reused connection (the server probably closed it while idle), else fail.
    private func connectionLost(_ error: HTTPClientError) {
        if isClosed { return }
        let current = exchange
        exchange = nil
        teardown()
        if let current, !current.isFinished, !receivedBytes, !headDelivered, exchangesCompleted > 0,
            current.isIdempotent, !current.retried, error.kind == .connectionClosed
        {
            current.retried = true
            pool.connectionClosed(self, retry: current)
            return
        }
        pool.connectionClosed(self)
        current?.fail(error)
    }

    static func clientError(_ error: HTTPParseError, key: PoolKey) -> HTTPClientError {
        switch error.kind {
        case .headersTooLarge:
            return HTTPClientError(.responseTooLarge, "the response head from \(key) is too large: \(error.message)")
        case .bodyTooLarge:
            return HTTPClientError(.responseTooLarge, "the response body from \(key) is too large: \(error.message)")
        default:
            return HTTPClientError(.malformedResponse, "invalid response from \(key): \(error.message)")
        }
    }

    // MARK: Writing

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
                return
            case .wantRead:
                setWriteWants(BH_EPOLLIN)
                return
            case .closed, .failed:
                // The server may have answered before closing (e.g. 413 while we were still
                // sending): stop writing and let the read side find the response or the EOF.
                writeFailed = true
                outbound = []
                outboundOffset = 0
                setWriteWants(0)
                readAvailable(force: true)
                return
            }
        }
        // Everything sent; the exchange keeps its own copy for a retry.
        outbound = []
        outboundOffset = 0
        setWriteWants(0)
    }

    private func setWriteWants(_ events: UInt32) {
        if writeWants != events {
            writeWants = events
            updateInterest()
        }
    }

    // MARK: Interest

    private func pauseReading() {
        if readingPaused { return }
        readingPaused = true
        updateInterest()
    }

    private func updateInterest() {
        guard fd >= 0 else { return }
        var events: UInt32 = 0
        switch state {
        case .connecting: events = BH_EPOLLOUT
        case .handshaking: events = handshakeWants
        case .idle: events = BH_EPOLLIN
        case .active:
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

    /// Closes the socket and frees the pool slot. Any exchange still attached must have
    /// been finished or detached by the caller.
    func close() {
        if isClosed { return }
        let current = exchange
        exchange = nil
        teardown()
        pool.connectionClosed(self)
        current?.fail(HTTPClientError(.connectionClosed, "the connection to \(key) was closed"))
    }

    /// Closes without telling the pool (the pool already took the connection off its books).
    func closeDetached() {
        if isClosed { return }
        exchange = nil
        teardown()
    }

    /// Client shutdown: fail the exchange (if any) with `error` and close.
    func shutdown(_ error: HTTPClientError) {
        if isClosed { return }
        let current = exchange
        exchange = nil
        teardown()
        current?.fail(error)
    }

    private func teardown() {
        state = .closed
        if let connectTimer {
            pool.deadlines.cancel(connectTimer)
            self.connectTimer = nil
        }
        if let idleTimer {
            pool.deadlines.cancel(idleTimer)
            self.idleTimer = nil
        }
        closeSocket()
        transport = nil
        outbound = []
        outboundOffset = 0
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
