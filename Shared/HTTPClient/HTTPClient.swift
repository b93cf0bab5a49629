import BulkheadHTTP
import Synchronization

/// The HTTP/1.1 client services use to call each other and AI providers.
///
/// One client owns one event loop thread (or borrows one) and a pool of keep-alive
/// connections per scheme, host and port (at most `maxConnectionsPerHost` each; further
/// requests wait their turn). Responses stream: `execute` returns once the head has
/// arrived, and the body is an `AsyncSequence` of chunks with backpressure.
///
/// Share one client per process and call `shutdown()` before exiting.
///
/// ```swift
/// let client = try HTTPClient()
/// defer { Task { await client.shutdown() } }
///
/// let response = try await client.post("http://inference:8080/v1/embed", json: Array(#"{"text":"hi"}"#.utf8))
/// let body = try await response.body.collect(upTo: 1 << 20)
///
/// var stream = HTTPClientRequest(method: .post, url: "https://api.openai.com/v1/chat/completions")
/// stream.headers.add(name: "Authorization", value: "Bearer \(key)")
/// stream.body = payload
/// for try await event in try await client.execute(stream, timeout: nil).body.serverSentEvents() {
///     print(event.data)
/// }
/// ```
///
/// Errors are `HTTPClientError`. Cancelling the calling task cancels the request and
/// closes its connection. Idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS) that fail
/// on a reused keep-alive connection before any response byte are retried once on a new one.
public final class HTTPClient: Sendable {
    public let configuration: Configuration
    /// The loop running this client's sockets.
    public let eventLoop: EventLoop
    private let ownsEventLoop: Bool
    private let pool: ConnectionPool
    /// Set by `shutdown()`; checked and acted on under the lock so no request is queued on a stopped loop.
    private let isShutdown = Mutex(false)

    /// Creates a client with its own event loop thread.
    ///
    /// - Throws: `IOError` when the system refuses an epoll instance, eventfd or timerfd
    ///   (for example when the process is out of file descriptors).
    public convenience init(configuration: Configuration = Configuration()) throws {
        let loop = try EventLoop(index: 0)
        loop.start(name: configuration.threadName)
        self.init(configuration: configuration, eventLoop: loop, ownsEventLoop: true)
    }

    /// Creates a client on an event loop that someone else runs (for example a server's),
    /// so that client I/O happens on that thread. `shutdown()` then leaves the loop running.
    package convenience init(configuration: Configuration = Configuration(), sharing eventLoop: EventLoop) {
        self.init(configuration: configuration, eventLoop: eventLoop, ownsEventLoop: false)
    }

    private init(configuration: Configuration, eventLoop: EventLoop, ownsEventLoop: Bool) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.ownsEventLoop = ownsEventLoop
        pool = ConnectionPool(
            loop: eventLoop, settings: ConnectionSettings(configuration), tls: TLSContextProvider(configuration.tlsContext))
    }

    deinit {
        // A client dropped without `shutdown()`: release its sockets and thread anyway.
        let alreadyDown = isShutdown.withLock { down -> Bool in
            defer { down = true }
            return down
        }
        if !alreadyDown {
            let pool = self.pool
            eventLoop.execute { pool.shutdown() }
            if ownsEventLoop { eventLoop.stop() }
        }
    }

    // MARK: Requests

    /// Sends `request` with the configured `requestTimeout` and returns once the response
    /// head has arrived. See `execute(_:timeout:)`.
    public func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        try await execute(request, timeout: configuration.requestTimeout)
    }

    /// Sends `request` and returns once the response head has arrived; the body streams.
    ///
    /// - Parameter timeout: total deadline for the whole exchange, body included (waiting for
    ///   a pooled connection, connecting, sending, receiving). `nil`: no deadline, for
    ///   long-lived streams (the connect timeout still applies).
    /// - Throws: `HTTPClientError`.
    public func execute(_ request: HTTPClientRequest, timeout: Duration?) async throws -> HTTPClientResponse {
        let url = try HTTPClientURL(request.url)
        let bytes = try RequestEncoder.encode(request, url: url, userAgent: configuration.userAgent)
        if Task.isCancelled { throw HTTPClientError(.cancelled, "the task was cancelled before the request to \(url) was sent") }
        let exchange = ClientExchange(
            loop: eventLoop, pool: pool, url: url, request: request, requestBytes: bytes,
            timeoutNanos: timeout.map { $0.clientNanoseconds })
        let loop = eventLoop
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPClientResponse, any Error>) in
                let accepted = isShutdown.withLock { down -> Bool in
                    if down { return false }
                    loop.execute { exchange.start(continuation) }
                    return true
                }
                if !accepted { continuation.resume(throwing: HTTPClientError(.shutdown, "the HTTP client is shut down")) }
            }
        } onCancel: {
            loop.execute { exchange.abort(HTTPClientError(.cancelled, "the request to \(url) was cancelled")) }
        }
    }

    /// `GET url`.
    ///
    /// ```swift
    /// let health = try await client.get("http://auth:8080/health")
    /// ```
    public func get(_ url: String, headers: HTTPHeaders = HTTPHeaders(), traceparent: String? = nil) async throws -> HTTPClientResponse {
        try await execute(HTTPClientRequest(method: .get, url: url, headers: headers, traceparent: traceparent))
    }

    /// `POST url` with a JSON body (`Content-Type: application/json` unless `headers` sets one).
    ///
    /// ```swift
    /// let response = try await client.post("http://queue-broker:8080/v1/jobs", json: Array(#"{"id":1}"#.utf8))
    /// ```
    public func post(
        _ url: String, json: [UInt8], headers: HTTPHeaders = HTTPHeaders(), traceparent: String? = nil
    ) async throws -> HTTPClientResponse {
        var all = headers
        if !all.contains("content-type") { all.add(name: "Content-Type", value: "application/json") }
        return try await execute(HTTPClientRequest(method: .post, url: url, headers: all, body: json, traceparent: traceparent))
    }

    // MARK: Lifecycle

    /// Fails queued and in-flight requests with `.shutdown`, closes every connection and
    /// stops the event loop (if the client owns it). Idempotent.
    public func shutdown() async {
        let first = isShutdown.withLock { down -> Bool in
            defer { down = true }
            return !down
        }
        guard first else {
            if ownsEventLoop { await eventLoop.waitUntilStopped() }
            return
        }
        let pool = self.pool
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            eventLoop.execute {
                pool.shutdown()
                c.resume()
            }
        }
        if ownsEventLoop {
            eventLoop.stop()
            await eventLoop.waitUntilStopped()
        }
    }

    /// Connection counts for the origin (scheme, host, port) of `url`.
    public struct PoolStatistics: Sendable, Equatable, CustomStringConvertible {
        /// Connections counted against `maxConnectionsPerHost`: connecting, busy or idle.
        public var open: Int
        /// Keep-alive connections waiting for a request.
        public var idle: Int
        /// Requests waiting for a connection.
        public var waiting: Int

        public var description: String { "open=\(open) idle=\(idle) waiting=\(waiting)" }
    }

    /// The pool's state for the origin of `url` (tests, metrics, debugging).
    ///
    /// ```swift
    /// let stats = try await client.poolStatistics(for: "http://cache:8080/")
    /// print(stats.open, stats.idle, stats.waiting)
    /// ```
    public func poolStatistics(for url: String) async throws -> PoolStatistics {
        let key = PoolKey(try HTTPClientURL(url))
        let pool = self.pool
        let stats = try await eventLoop.submit { pool.stats(for: key) }
        return PoolStatistics(open: stats.open, idle: stats.idle, waiting: stats.waiting)
    }
}
