/// The events of a `text/event-stream` response body, parsed as the chunks arrive.
/// Made by `HTTPClientResponseBody.serverSentEvents()`.
///
/// ```swift
/// var request = HTTPClientRequest(method: .post, url: "https://api.openai.com/v1/chat/completions")
/// request.headers.add(name: "Accept", value: "text/event-stream")
/// let response = try await client.execute(request, timeout: nil)
/// for try await event in response.body.serverSentEvents() {
///     if event.data == "[DONE]" { break }
///     consume(event.data)
/// }
/// ```
///
/// An error or cancellation ends the stream and closes the connection. After an early
/// `break`, the connection is closed once the response and its body are no longer referenced
/// (the socket is not read meanwhile beyond the backpressure buffer).
public struct ServerSentEventStream: AsyncSequence, Sendable {
    public typealias Element = ServerSentEvent
    public typealias Failure = any Error

    let body: HTTPClientResponseBody
    let maxEventBytes: Int

    public struct AsyncIterator: AsyncIteratorProtocol {
        var body: HTTPClientResponseBody.AsyncIterator
        var parser: ServerSentEventParser
        var pending: [ServerSentEvent] = []
        var index = 0
        var ended = false

        /// Whether `next()` can return an event without waiting for more of the body: lets a
        /// consumer batch the events of one network read (e.g. write them to its client at once).
        public var hasBufferedEvents: Bool { index < pending.count }

        /// The next event if one is already parsed, without waiting (nil: `next()` would wait or end).
        public mutating func nextBuffered() -> ServerSentEvent? {
            guard index < pending.count else { return nil }
            let event = pending[index]
            index += 1
            return event
        }

        /// The next event, or nil when the stream ended (an unterminated last event is dropped).
        public mutating func next() async throws -> ServerSentEvent? {
            while index >= pending.count {
                if ended { return nil }
                pending.removeAll(keepingCapacity: true)
                index = 0
                guard let chunk = try await body.next() else {
                    parser.finish()
                    ended = true
                    return nil
                }
                do {
                    pending = try parser.parse(chunk)
                } catch {
                    body.storage.stream.cancel(error)
                    ended = true
                    throw error
                }
            }
            let event = pending[index]
            index += 1
            return event
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: body.makeAsyncIterator(), parser: ServerSentEventParser(maxEventBytes: maxEventBytes))
    }
}
