/// Sends server-sent events on a streamed response.
public struct ServerSentEventWriter: Sendable {
    let writer: HTTPBodyWriter

    /// Sends one event; throws `HTTPBodyWriterError` once the client is gone.
    public func send(_ event: ServerSentEventMessage) async throws { try await writer.write(event.encoded) }

    public func send(id: String? = nil, event: String? = nil, data: String) async throws {
        try await send(ServerSentEventMessage(id: id, event: event, data: data))
    }

    /// A comment line: ignored by clients, keeps proxies from timing the stream out.
    public func comment(_ text: String = "") async throws {
        try await writer.write(Array(": \(text)\n\n".utf8))
    }
}

extension HTTPResponse {
    /// A `text/event-stream` response. `producer` sends events until it returns. Heartbeat
    /// comments go out every `heartbeat`; when the client disconnects, the producer is cancelled
    /// (its next `send` also throws), so per-stream work never outlives its reader.
    ///
    /// ```swift
    /// router.get("/v1/jobs/{id}/events") { request, context in
    ///     .serverSentEvents { sse in
    ///         try await sse.send(event: "status", data: #"{"status":"running"}"#)
    ///     }
    /// }
    /// ```
    public static func serverSentEvents(
        headers: HTTPHeaders = HTTPHeaders(), retry: Int? = nil, heartbeat: Duration? = .seconds(15),
        _ producer: @escaping @Sendable (ServerSentEventWriter) async throws -> Void
    ) -> HTTPResponse {
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        h.replaceOrAdd(name: "Cache-Control", value: "no-cache")
        // Tells nginx-style proxies not to buffer the stream.
        h.replaceOrAdd(name: "X-Accel-Buffering", value: "no")
        return .stream(headers: h) { writer in
            let sse = ServerSentEventWriter(writer: writer)
            if let retry { try await writer.write(Array("retry: \(retry)\n\n".utf8)) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await producer(sse) }
                if let heartbeat {
                    group.addTask {
                        while true {
                            try await Task.sleep(for: heartbeat)
                            try await sse.comment()
                        }
                    }
                }
                group.addTask {
                    await writer.waitForClose()
                    throw HTTPBodyWriterError.connectionClosed
                }
                // The first child to finish decides: the producer's end (or error), or the disconnect.
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }
}
