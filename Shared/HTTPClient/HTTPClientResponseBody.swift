/// A response body, streamed: an `AsyncSequence` of byte chunks in the order they arrive.
///
/// Backpressure: the client stops reading the socket while more than
/// `HTTPClient.Configuration.responseBufferBytes` wait unconsumed here, so a slow consumer
/// slows the server instead of filling memory.
///
/// The body can be consumed once (a second iteration continues where the first stopped).
/// Cancelling the consuming task, or dropping the body before its end, closes the
/// connection; a body read to its end lets the connection be reused.
///
/// ```swift
/// let response = try await client.execute(request, timeout: nil)  // no deadline: a long stream
/// for try await chunk in response.body {
///     handle(chunk)
/// }
/// // or, for small bodies:
/// let bytes = try await response.body.collect(upTo: 1 << 20)
/// ```
public struct HTTPClientResponseBody: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Failure = any Error

    /// Keeps the stream alive while the body (or an iterator) is referenced, and tells the
    /// stream when the last reference is gone so that an unread body closes its connection.
    final class Storage: Sendable {
        let stream: ResponseBodyStream
        init(_ stream: ResponseBodyStream) { self.stream = stream }
        deinit { stream.consumerDropped() }
    }

    let storage: Storage

    init(stream: ResponseBodyStream) {
        storage = Storage(stream)
    }

    /// A complete body held in memory (for test doubles and cached responses).
    public init(bytes: [UInt8]) {
        storage = Storage(ResponseBodyStream(bytes: bytes, defaultCollectLimit: Int.max))
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let storage: Storage

        /// The next chunk (never empty), or nil at the end of the body.
        public mutating func next() async throws -> [UInt8]? {
            try await storage.stream.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(storage: storage) }

    /// Reads the whole body, failing with `.responseTooLarge` as soon as it is known to
    /// exceed `maxBytes` (from `Content-Length`, or while reading); the connection is then
    /// closed rather than drained.
    public func collect(upTo maxBytes: Int) async throws -> [UInt8] {
        let stream = storage.stream
        if let expected = stream.expectedLength, expected > maxBytes {
            let error = HTTPClientError(
                .responseTooLarge, "the response body of \(expected) bytes exceeds the limit of \(maxBytes) bytes")
            stream.cancel(error)
            throw error
        }
        var result: [UInt8] = []
        if let expected = stream.expectedLength { result.reserveCapacity(expected) }
        while let chunk = try await stream.next() {
            if chunk.count > maxBytes - result.count {
                let error = HTTPClientError(.responseTooLarge, "the response body exceeds the limit of \(maxBytes) bytes")
                stream.cancel(error)
                throw error
            }
            result.append(contentsOf: chunk)
        }
        return result
    }

    /// Reads the whole body up to the client's `Configuration.maxCollectBytes`.
    public func collect() async throws -> [UInt8] {
        try await collect(upTo: storage.stream.defaultCollectLimit)
    }

    /// Reads the whole body as UTF-8 text (invalid sequences replaced), up to `maxBytes`.
    public func collectString(upTo maxBytes: Int) async throws -> String {
        String(decoding: try await collect(upTo: maxBytes), as: UTF8.self)
    }

    /// Parses the body as a `text/event-stream` and yields each dispatched event.
    ///
    /// ```swift
    /// for try await event in response.body.serverSentEvents() {
    ///     if event.data == "[DONE]" { break }
    ///     print(event.event, event.data)
    /// }
    /// ```
    public func serverSentEvents(maxEventBytes: Int = ServerSentEventParser.defaultMaxEventBytes) -> ServerSentEventStream {
        ServerSentEventStream(body: self, maxEventBytes: maxEventBytes)
    }
}
