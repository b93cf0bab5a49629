/// An incremental `text/event-stream` parser following the WHATWG EventSource rules:
///
/// - lines end with CRLF, LF or CR (a CRLF split across two chunks counts once);
/// - one UTF-8 byte order mark at the very start of the stream is skipped;
/// - a line starting with `:` is a comment;
/// - `name:value` with one optional space after the colon, or a bare `name` with an empty value;
/// - `data` lines are joined with `\n`; `event` sets the type; `id` sets the last event ID
///   unless its value contains NUL; `retry` is honoured only when it is ASCII digits;
///   other fields are ignored;
/// - an empty line dispatches the event, unless no `data` line was seen;
/// - an event not ended by an empty line when the stream ends is discarded.
///
/// ```swift
/// var parser = ServerSentEventParser()
/// for event in try parser.parse(Array("data: hello\n\n".utf8)) {
///     print(event.data)  // "hello"
/// }
/// ```
public struct ServerSentEventParser: Sendable {
    /// Default bound on one event (its data plus the line being read).
    public static let defaultMaxEventBytes = 4 << 20

    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    public let maxEventBytes: Int

    /// The last event ID string (empty: none).
    public private(set) var lastEventID = ""
    /// The most recent valid `retry:` value, in milliseconds.
    public private(set) var reconnectionTime: Int?

    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType: [UInt8] = []
    private var blockRetry: Int?
    /// The previous chunk ended with CR: a LF at the start of the next one belongs to it.
    private var skipLF = false
    /// Bytes of the BOM matched so far, while still at the start of the stream (-1: past it).
    private var bomMatched = 0

    public init(maxEventBytes: Int = ServerSentEventParser.defaultMaxEventBytes) {
        self.maxEventBytes = max(1, maxEventBytes)
    }

    /// Feeds the next bytes of the stream and returns the events they complete, in order.
    /// Throws `.responseTooLarge` when one event exceeds `maxEventBytes`; the parser is
    /// then reset and the stream should be abandoned.
    public mutating func parse(_ bytes: some Sequence<UInt8>) throws(HTTPClientError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        // Contiguous input (what the client hands over) is taken a line at a time instead of a
        // byte at a time: a stream of tokens is mostly long `data:` lines.
        var failure: HTTPClientError?
        let done = bytes.withContiguousStorageIfAvailable { buffer -> Bool in
            do throws(HTTPClientError) { try parseLines(buffer, into: &events) } catch { failure = error }
            return true
        }
        if let failure { throw failure }
        if done == true { return events }
        try parseByteWise(bytes, into: &events)
        return events
    }

    /// The reference rules, one byte at a time (non-contiguous input, the stream's first bytes,
    /// a LF that may complete a CR).
    private mutating func parseByteWise(_ bytes: some Sequence<UInt8>, into events: inout [ServerSentEvent]) throws(HTTPClientError) {
        for b in bytes {
            if bomMatched >= 0 {
                if b == Self.bom[bomMatched] {
                    bomMatched += 1
                    if bomMatched == 3 { bomMatched = -1 }
                    continue
                }
                line.append(contentsOf: Self.bom[0..<bomMatched])
                bomMatched = -1
            }
            if skipLF {
                skipLF = false
                if b == 0x0A { continue }
            }
            if b == 0x0A || b == 0x0D {
                if b == 0x0D { skipLF = true }
                if let event = processLine() { events.append(event) }
                line.removeAll(keepingCapacity: true)
                continue
            }
            line.append(b)
            if line.count + data.count > maxEventBytes {
                reset()
                throw HTTPClientError(.responseTooLarge, "a server-sent event exceeds \(maxEventBytes) bytes")
            }
        }
    }

    /// `parse` over contiguous bytes: whole line segments are appended at once; the start of
    /// the stream (byte order mark) and a CR at a chunk's end take the byte-wise path's rules.
    private mutating func parseLines(_ buffer: UnsafeBufferPointer<UInt8>, into events: inout [ServerSentEvent]) throws(HTTPClientError) {
        var i = 0
        let n = buffer.count
        while i < n {
            if bomMatched >= 0 || skipLF {
                // Rare states: one byte through the exact byte-wise rules.
                try parseByteWise(buffer[i..<(i + 1)], into: &events)
                i += 1
                continue
            }
            var end = i
            while end < n, buffer[end] != 0x0A, buffer[end] != 0x0D { end += 1 }
            if end > i {
                line.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[i..<end]))
                if line.count + data.count > maxEventBytes {
                    reset()
                    throw HTTPClientError(.responseTooLarge, "a server-sent event exceeds \(maxEventBytes) bytes")
                }
            }
            if end == n { return }
            if buffer[end] == 0x0D { skipLF = true }
            if let event = processLine() { events.append(event) }
            line.removeAll(keepingCapacity: true)
            i = end + 1
        }
    }

    /// The stream ended: an event without its final empty line is discarded (no dispatch).
    public mutating func finish() {
        reset()
        bomMatched = 0
    }

    private mutating func reset() {
        line = []
        data = []
        hasData = false
        eventType = []
        blockRetry = nil
        skipLF = false
    }

    /// Handles one complete line (in `line`, without its terminator); returns an event on dispatch.
    private mutating func processLine() -> ServerSentEvent? {
        if line.isEmpty { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }  // comment
        let name: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            name = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            name = line[...]
            value = []
        }
        if name.elementsEqual("data".utf8) {
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        } else if name.elementsEqual("event".utf8) {
            eventType = Array(value)
        } else if name.elementsEqual("id".utf8) {
            if !value.contains(0) { lastEventID = String(decoding: value, as: UTF8.self) }
        } else if name.elementsEqual("retry".utf8) {
            if !value.isEmpty, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
                var n = 0
                var overflow = false
                for d in value {
                    let (m, o1) = n.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.addingReportingOverflow(Int(d - 0x30))
                    if o1 || o2 { overflow = true; break }
                    n = s
                }
                if !overflow {
                    reconnectionTime = n
                    blockRetry = n
                }
            }
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            data.removeAll(keepingCapacity: data.count <= 4096)
            hasData = false
            eventType = []
            blockRetry = nil
        }
        guard hasData else { return nil }
        return ServerSentEvent(
            id: lastEventID.isEmpty ? nil : lastEventID,
            event: eventType.isEmpty ? "message" : String(decoding: eventType, as: UTF8.self),
            data: String(decoding: data, as: UTF8.self),
            retry: blockRetry)
    }
}
