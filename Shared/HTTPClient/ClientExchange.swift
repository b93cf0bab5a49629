import BulkheadHTTP

/// One request, from `execute` until the end of its response body: its deadline, its
/// place in the pool (queued, connecting, running on a connection), the continuation
/// waiting for the response head and then the body stream.
///
/// Concurrency: confined to the client's event loop, except `bodyDemanded`/`bodyAbandoned`
/// which only hop to it; that is why it can be `@unchecked Sendable`.
final class ClientExchange: ResponseBodyProducer, @unchecked Sendable {
    enum Phase {
        case created
        case queued
        case connecting(ClientConnection)
        /// Sending the request and waiting for the response head.
        case running(ClientConnection)
        /// Head delivered; the body is arriving.
        case streaming(ClientConnection)
        case finished
    }

    let loop: EventLoop
    let pool: ConnectionPool
    let key: PoolKey
    let url: HTTPClientURL
    /// Head and body as sent.
    let requestBytes: [UInt8]
    let isIdempotent: Bool
    let isHEAD: Bool
    /// The caller asked for `Connection: close`.
    let closeAfterResponse: Bool
    let timeoutNanos: UInt64?

    private(set) var phase = Phase.created
    private var continuation: CheckedContinuation<HTTPClientResponse, any Error>?
    private var stream: ResponseBodyStream?
    private var timerID: UInt64?
    /// An abort (cancellation) that arrived before `start`.
    private var earlyError: HTTPClientError?
    /// Already retried once on a fresh connection.
    var retried = false
    /// Set while queued for a retry: must not get a reused connection.
    private(set) var wantsFreshConnection = false

    init(
        loop: EventLoop, pool: ConnectionPool, url: HTTPClientURL, request: HTTPClientRequest, requestBytes: [UInt8],
        timeoutNanos: UInt64?
    ) {
        self.loop = loop
        self.pool = pool
        self.key = PoolKey(url)
        self.url = url
        self.requestBytes = requestBytes
        self.isIdempotent = request.isIdempotent
        self.isHEAD = request.method == .head
        self.closeAfterResponse = request.headers.tokens("connection").contains("close")
        self.timeoutNanos = timeoutNanos
    }

    var isFinished: Bool {
        if case .finished = phase { return true }
        return false
    }

    // MARK: Lifecycle (loop thread)

    func start(_ continuation: CheckedContinuation<HTTPClientResponse, any Error>) {
        assert(loop.inEventLoop)
        self.continuation = continuation
        if let earlyError {
            fail(earlyError)
            return
        }
        // Beyond ~146 years a deadline is the same as none (and would overflow the timer).
        if let timeoutNanos, timeoutNanos < 1 << 62 {
            timerID = pool.deadlines.schedule(after: timeoutNanos) { [weak self] in
                guard let self else { return }
                timerID = nil
                deadlinePassed()
            }
        }
        pool.acquire(self, fresh: false)
    }

    func queued(fresh: Bool) {
        phase = .queued
        wantsFreshConnection = fresh
    }

    func connecting(on connection: ClientConnection) {
        phase = .connecting(connection)
    }

    func running(on connection: ClientConnection) {
        phase = .running(connection)
        wantsFreshConnection = false
    }

    /// The response head arrived: resumes `execute` with a streaming body.
    func deliverHead(_ head: HTTPResponseHead, framing: HTTPResponseFraming, connection: ClientConnection) {
        guard let continuation else { return }
        self.continuation = nil
        let settings = pool.settings
        var expected: Int?
        if case .length(let n) = framing { expected = n }
        if case .none = framing { expected = 0 }
        let stream = ResponseBodyStream(
            producer: self, highWatermark: settings.responseBufferBytes, defaultCollectLimit: settings.maxCollectBytes,
            expectedLength: expected)
        self.stream = stream
        phase = .streaming(connection)
        continuation.resume(
            returning: HTTPClientResponse(
                status: head.status, version: head.version, headers: head.headers, body: HTTPClientResponseBody(stream: stream)))
    }

    /// A body piece; returns false when the consumer is behind and reading should pause.
    func deliverBody(_ bytes: [UInt8]) -> Bool {
        stream?.push(bytes) ?? true
    }

    /// The response ended normally.
    func complete() {
        guard !isFinished else { return }
        phase = .finished
        cancelTimer()
        stream?.finish()
        stream = nil
        if let continuation {
            // A response without a head cannot end; defensive only.
            self.continuation = nil
            continuation.resume(throwing: HTTPClientError(.malformedResponse, "the response ended before its head"))
        }
    }

    /// Fails the caller (before the head) or the body consumer (after). Does not touch the connection.
    func fail(_ error: HTTPClientError) {
        guard !isFinished else { return }
        phase = .finished
        cancelTimer()
        if let continuation {
            self.continuation = nil
            continuation.resume(throwing: error)
        }
        stream?.fail(error)
        stream = nil
    }

    /// Gives up from outside the connection (deadline, cancellation): fails the caller and
    /// releases whatever the exchange holds (queue slot or connection, which is closed).
    func abort(_ error: HTTPClientError) {
        assert(loop.inEventLoop)
        switch phase {
        case .created:
            if continuation == nil {
                earlyError = earlyError ?? error
            } else {
                fail(error)
            }
        case .queued:
            fail(error)
            pool.removeWaiter(self)
        case .connecting(let connection), .running(let connection), .streaming(let connection):
            fail(error)
            connection.exchangeAborted(self)
        case .finished:
            break
        }
    }

    private func deadlinePassed() {
        let limit = formatNanoseconds(timeoutNanos ?? 0)
        let what: String
        switch phase {
        case .created, .queued: what = "while waiting for a connection to \(key)"
        case .connecting: what = "while connecting to \(key)"
        case .running: what = "before the response head from \(key) arrived"
        case .streaming: what = "before the response body from \(key) was complete"
        case .finished: return
        }
        abort(HTTPClientError(.timeout, "the request timed out after \(limit) \(what)"))
    }

    private func cancelTimer() {
        if let timerID {
            pool.deadlines.cancel(timerID)
            self.timerID = nil
        }
    }

    // MARK: ResponseBodyProducer (any thread)

    func bodyDemanded() {
        loop.execute { [self] in
            if case .streaming(let connection) = phase { connection.resumeReading(for: self) }
        }
    }

    func bodyAbandoned() {
        loop.execute { [self] in
            guard case .streaming(let connection) = phase else { return }
            phase = .finished
            cancelTimer()
            stream = nil
            connection.exchangeAborted(self)
        }
    }
}
