/// One event dispatched from a `text/event-stream` (WHATWG HTML, "Server-sent events").
///
/// ```swift
/// // event: delta
/// // id: 7
/// // data: {"text":"Hel"}
/// ServerSentEvent(id: "7", event: "delta", data: #"{"text":"Hel"}"#)
/// ```
public struct ServerSentEvent: Sendable, Hashable, CustomStringConvertible {
    /// The last event ID at dispatch time: the most recent `id:` field of the stream so far
    /// (it carries over to later events), or nil when none was set or it was reset by an empty `id:`.
    public var id: String?
    /// The event type: the `event:` field of this event, or `"message"`.
    public var event: String
    /// The `data:` lines of this event joined by `\n`.
    public var data: String
    /// The reconnection time in milliseconds from a `retry:` field in this event's block, if any.
    public var retry: Int?

    public init(id: String? = nil, event: String = "message", data: String, retry: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry
    }

    public var description: String {
        var parts: [String] = []
        if let id { parts.append("id=\(id)") }
        parts.append("event=\(event)")
        if let retry { parts.append("retry=\(retry)") }
        parts.append("data=\(data.debugDescription)")
        return "ServerSentEvent(\(parts.joined(separator: ", ")))"
    }
}
