/// One server-sent event as written on the wire (WHATWG HTML, "Server-sent events").
public struct ServerSentEventMessage: Sendable, Equatable {
    public var id: String?
    public var event: String?
    /// May contain newlines: each line becomes its own `data:` field.
    public var data: String
    /// Reconnection delay the client should use, in milliseconds.
    public var retry: Int?

    public init(id: String? = nil, event: String? = nil, data: String, retry: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retry = retry
    }

    /// The wire form, ending with the blank line that dispatches it.
    public var encoded: [UInt8] {
        var out = ""
        if let id { out += "id: \(Self.singleLine(id))\n" }
        if let event { out += "event: \(Self.singleLine(event))\n" }
        if let retry { out += "retry: \(max(0, retry))\n" }
        // Split on CRLF, CR and LF alike so no line break can start a new field.
        let lines = data.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
        for line in lines { out += "data: \(line)\n" }
        out += "\n"
        return Array(out.utf8)
    }

    private static func singleLine(_ s: String) -> String {
        String(s.unicodeScalars.filter { $0 != "\n" && $0 != "\r" && $0 != "\0" })
    }
}
