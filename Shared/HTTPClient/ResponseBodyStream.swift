import Synchronization

/// What the body stream tells the side producing it (the request's exchange). Both calls
/// may come from any thread; the implementation hops to its event loop.
protocol ResponseBodyProducer: AnyObject, Sendable {
    /// The consumer drained the buffer below the low watermark: reading may resume.
    func bodyDemanded()
    /// The consumer stopped (cancelled, gave up on a limit, or dropped the body) before
    /// the end: the connection must be closed.
    func bodyAbandoned()
}

/// The buffer between the connection (producer, on the event loop) and the task reading
/// the body (consumer, anywhere). Single consumer. Backpressure: `push` returns false
/// once more than `highWatermark` bytes wait unconsumed; the producer then stops reading
/// the socket until `bodyDemanded()` (below half the watermark).
final class ResponseBodyStream: Sendable {
    private struct State {
        var chunks: [[UInt8]] = []
        var head = 0
        var bufferedBytes = 0
        /// The producer was told to pause and has not been told to resume yet.
        var producerPaused = false
        /// Producer side ended: `.end` received (nil error) or failed.
        var finished = false
        var error: HTTPClientError?
        /// The consumer gave up; later pushes are dropped.
        var consumerGone = false
        var waiter: CheckedContinuation<[UInt8]?, any Error>?
        var producer: (any ResponseBodyProducer)?
    }

    private let state: Mutex<State>
    let highWatermark: Int
    /// The `collect()` limit when none is given.
    let defaultCollectLimit: Int
    /// `Content-Length` of the response, when known (lets `collect` fail before reading).
    let expectedLength: Int?

    init(producer: (any ResponseBodyProducer)?, highWatermark: Int, defaultCollectLimit: Int, expectedLength: Int?) {
        var s = State()
        s.producer = producer
        state = Mutex(s)
        self.highWatermark = max(1, highWatermark)
        self.defaultCollectLimit = defaultCollectLimit
        self.expectedLength = expectedLength
    }

    /// A finished stream holding `bytes` (for responses built in memory, e.g. test doubles).
    convenience init(bytes: [UInt8], defaultCollectLimit: Int) {
        self.init(producer: nil, highWatermark: Int.max, defaultCollectLimit: defaultCollectLimit, expectedLength: bytes.count)
        if !bytes.isEmpty { _ = push(bytes) }
        finish()
    }

    // MARK: Producer side

    /// Queues a chunk (or hands it to a waiting consumer). Returns false when the producer should pause.
    func push(_ chunk: [UInt8]) -> Bool {
        if chunk.isEmpty { return true }
        let (waiter, keepReading) = state.withLock { s -> (CheckedContinuation<[UInt8]?, any Error>?, Bool) in
            if s.consumerGone || s.finished { return (nil, true) }
            if let w = s.waiter {
                s.waiter = nil
                return (w, true)
            }
            s.chunks.append(chunk)
            s.bufferedBytes += chunk.count
            if s.bufferedBytes > highWatermark {
                s.producerPaused = true
                return (nil, false)
            }
            return (nil, true)
        }
        waiter?.resume(returning: chunk)
        return keepReading
    }

    /// The body ended normally.
    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<[UInt8]?, any Error>? in
            if s.finished { return nil }
            s.finished = true
            s.producer = nil
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The body failed (timeout, connection lost, malformed chunk...). Buffered chunks are
    /// still delivered first; then the consumer gets `error`.
    func fail(_ error: HTTPClientError) {
        let waiter = state.withLock { s -> CheckedContinuation<[UInt8]?, any Error>? in
            if s.finished { return nil }
            s.finished = true
            s.error = error
            s.producer = nil
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(throwing: error)
    }

    // MARK: Consumer side

    private enum Poll {
        case chunk([UInt8], demand: (any ResponseBodyProducer)?)
        case end
        case failed(HTTPClientError)
        case wait
    }

    private func poll(_ s: inout State) -> Poll {
        if s.consumerGone, let e = s.error { return .failed(e) }
        if s.head < s.chunks.count {
            let chunk = s.chunks[s.head]
            s.chunks[s.head] = []
            s.head += 1
            s.bufferedBytes -= chunk.count
            if s.head == s.chunks.count {
                s.chunks.removeAll(keepingCapacity: s.chunks.count <= 64)
                s.head = 0
            } else if s.head >= 64 && s.head * 2 >= s.chunks.count {
                s.chunks.removeFirst(s.head)
                s.head = 0
            }
            var demand: (any ResponseBodyProducer)?
            if s.producerPaused && s.bufferedBytes <= highWatermark / 2 {
                s.producerPaused = false
                demand = s.producer
            }
            return .chunk(chunk, demand: demand)
        }
        if s.finished {
            if let e = s.error { return .failed(e) }
            return .end
        }
        return .wait
    }

    /// The next chunk, nil at the end. Throws the stream's error, or `.cancelled` when the
    /// calling task is cancelled (which also closes the connection).
    func next() async throws -> [UInt8]? {
        // Fast path: something is buffered, no continuation needed.
        switch state.withLock({ poll(&$0) }) {
        case .chunk(let c, let demand):
            demand?.bodyDemanded()
            return c
        case .end: return nil
        case .failed(let e): throw e
        case .wait: break
        }
        if Task.isCancelled {
            cancel(HTTPClientError(.cancelled, "the task reading the response body was cancelled"))
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<[UInt8]?, any Error>) in
                let result = state.withLock { s -> Poll in
                    let p = poll(&s)
                    if case .wait = p { s.waiter = c }
                    return p
                }
                switch result {
                case .chunk(let chunk, let demand):
                    demand?.bodyDemanded()
                    c.resume(returning: chunk)
                case .end: c.resume(returning: nil)
                case .failed(let e): c.resume(throwing: e)
                case .wait:
                    // Nothing buffered, so the producer cannot be paused: it will push.
                    break
                }
            }
        } onCancel: {
            cancel(HTTPClientError(.cancelled, "the task reading the response body was cancelled"))
        }
    }

    /// The consumer gives up: drops what is buffered, fails a waiting `next()` with `error`
    /// and, if the body was still arriving, tells the producer to close the connection.
    func cancel(_ error: HTTPClientError) {
        let (waiter, producer) = state.withLock { s -> (CheckedContinuation<[UInt8]?, any Error>?, (any ResponseBodyProducer)?) in
            if s.consumerGone { return (nil, nil) }
            s.consumerGone = true
            s.chunks = []
            s.head = 0
            s.bufferedBytes = 0
            let producer = s.finished ? nil : s.producer
            s.producer = nil
            if !s.finished || s.error == nil {
                s.error = error
            }
            s.finished = true
            defer { s.waiter = nil }
            return (s.waiter, producer)
        }
        waiter?.resume(throwing: error)
        producer?.bodyAbandoned()
    }

    /// The last reference to the body went away: if it was still arriving, close the connection.
    func consumerDropped() {
        let producer = state.withLock { s -> (any ResponseBodyProducer)? in
            if s.finished || s.consumerGone { return nil }
            s.consumerGone = true
            s.finished = true
            s.error = HTTPClientError(.cancelled, "the response body was dropped before it was read")
            s.chunks = []
            s.head = 0
            s.bufferedBytes = 0
            defer { s.producer = nil }
            return s.producer
        }
        producer?.bodyAbandoned()
    }

    /// Unconsumed bytes in the buffer (tests and diagnostics).
    var bufferedBytes: Int { state.withLock { $0.bufferedBytes } }

    /// Whether the producer side has ended (normally or not).
    var isFinished: Bool { state.withLock { $0.finished } }
}
