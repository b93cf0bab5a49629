/// An incremental HTTP/1.1 response parser for the HTTP client (RFC 9112), the counterpart of
/// `HTTPRequestParser` with which it shares the header-section and body decoders.
///
/// Before each request is sent, call `expectResponse(toHEAD:)` so that the parser knows
/// whether the response can have a body (pass true for HEAD, and for CONNECT whose 2xx
/// response has none either). Feed bytes with `append`, drain events with `next()` until nil,
/// and at EOF call `finish()`, which ends an `.untilClose` body with `.end` and fails any
/// other incomplete response.
///
/// Interim responses (1xx) produce `.head` with framing `.none` then `.end`; the final
/// response follows. After `101 Switching Protocols`, `takeBufferedBytes()` returns the
/// bytes of the new protocol already received.
public struct HTTPResponseParser: Sendable {
    private enum Phase: Sendable {
        case statusLine
        case headers
        case body
        case failed(HTTPParseError)
    }

    public let limits: HTTPParserLimits
    private var buffer = HTTP1InputBuffer()
    private var phase = Phase.statusLine
    private var emptyLines = 0
    private var section = HTTP1HeaderSection()
    private var body = HTTP1BodyDecoder()
    private var bodyLimit = Int.max
    private var status = HTTPStatus.ok
    private var version = HTTPVersion.http1_1
    private var isInformational = false
    private var respondsToHEAD = false
    private var eof = false

    public init(limits: HTTPParserLimits = .init()) {
        self.limits = limits
    }

    // MARK: Input

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if case .failed = phase { return }
        buffer.append(bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        if case .failed = phase { return }
        buffer.append(bytes)
    }

    /// Declares what the next response answers: with `toHEAD`, it has no body whatever its
    /// headers say. Applies until that request's final (non-1xx) response ends.
    public mutating func expectResponse(toHEAD: Bool) {
        respondsToHEAD = toHEAD
    }

    /// The body limit of the current response (unlimited unless set; reset after each
    /// response). Beyond it, `next()` throws `bodyTooLarge`.
    public mutating func setBodyLimit(_ bytes: Int) {
        bodyLimit = max(0, bytes)
    }

    // MARK: State

    /// Bytes appended and not yet consumed.
    public var bufferedBytes: Int { buffer.count }

    /// No response in progress and nothing buffered: the connection can be reused.
    public var isAtResponseBoundary: Bool {
        if case .statusLine = phase { return buffer.isEmpty }
        return false
    }

    /// Removes and returns every unconsumed byte (the new protocol after a 101 response).
    public mutating func takeBufferedBytes() -> [UInt8] {
        buffer.takeAll()
    }

    // MARK: Parsing

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPResponseParseEvent? {
        if case .failed(let error) = phase { throw error }
        do {
            return try step()
        } catch {
            phase = .failed(error)
            buffer.removeAll()
            throw error
        }
    }

    /// Signals EOF. Returns the next event like `next()` (keep calling `next()` until nil):
    /// an until-close body ends with `.end`; a response cut short throws `malformed`.
    public mutating func finish() throws(HTTPParseError) -> HTTPResponseParseEvent? {
        eof = true
        return try next()
    }

    private mutating func step() throws(HTTPParseError) -> HTTPResponseParseEvent? {
        while true {
            switch phase {
            case .statusLine:
                guard let length = try buffer.nextLine(maxLength: limits.maxHeaderBytes, overflow: .headerSection) else {
                    if eof && !buffer.isEmpty { throw .malformed("connection closed before the response head was complete") }
                    return nil
                }
                if length == 0 {
                    emptyLines += 1
                    if emptyLines > HTTPRequestParser.maxLeadingEmptyLines {
                        throw .malformed("too many empty lines before the status line")
                    }
                    buffer.consume(2)
                    continue
                }
                (version, status) = try buffer.withBytes(length) { (line) throws(HTTPParseError) in
                    try Self.parseStatusLine(line)
                }
                buffer.consume(length + 2)
                section.reset(byteCount: length + 2, isTrailer: false)
                phase = .headers

            case .headers:
                guard try section.read(from: &buffer, limits: limits) else {
                    if eof { throw .malformed("connection closed before the response head was complete") }
                    return nil
                }
                isInformational = status.code < 200
                let framing = try responseFraming()
                switch framing {
                case .none: body.start(.none, headBytes: section.byteCount)
                case .length(let n): body.start(.length(n), headBytes: section.byteCount)
                case .chunked: body.start(.chunked, headBytes: section.byteCount)
                case .untilClose: body.start(.untilClose, headBytes: section.byteCount)
                }
                phase = .body
                return .head(HTTPResponseHead(status: status, version: version, headers: section.takeHeaders()), framing)

            case .body:
                guard let event = try body.next(&buffer, bodyLimit: bodyLimit, limits: limits, eof: eof) else { return nil }
                switch event {
                case .body(let bytes):
                    return .body(bytes)
                case .end(let trailers):
                    phase = .statusLine
                    emptyLines = 0
                    if !isInformational {
                        respondsToHEAD = false
                        bodyLimit = Int.max
                    }
                    return .end(trailers: trailers)
                }

            case .failed(let error):
                throw error
            }
        }
    }

    /// `HTTP-version SP 3DIGIT SP [ reason-phrase ]`; the SP before an empty reason may be missing.
    static func parseStatusLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> (HTTPVersion, HTTPStatus) {
        let n = line.count
        guard n >= 12, line[8] == HTTP1Bytes.sp else { throw .malformed("invalid status line") }
        let version = try HTTP1Bytes.parseVersion(UnsafeBufferPointer(rebasing: line[0..<8]))
        var code = 0
        for i in 9..<12 {
            guard HTTP1Bytes.isDigit(line[i]) else { throw .malformed("invalid status code") }
            code = code * 10 + Int(line[i] &- 0x30)
        }
        guard code >= 100 else { throw .malformed("invalid status code") }
        var reason = ""
        if n > 12 {
            guard line[12] == HTTP1Bytes.sp else { throw .malformed("invalid status line") }
            let phrase = UnsafeBufferPointer(rebasing: line[13...])
            for b in phrase where !HTTP1Bytes.isFieldContent(b) {
                throw .malformed("invalid character in the reason phrase")
            }
            reason = String(decoding: phrase, as: UTF8.self)
        }
        return (version, HTTPStatus(code: code, reason: reason))
    }

    /// RFC 9112 §6.3 for responses.
    private func responseFraming() throws(HTTPParseError) -> HTTPResponseFraming {
        let code = status.code
        if isInformational || respondsToHEAD || code == 204 || code == 304 { return .none }
        if !section.transferEncoding.isEmpty {
            if version == .http1_0 { throw .malformed("Transfer-Encoding in an HTTP/1.0 response") }
            if section.contentLength != nil { throw .malformed("both Transfer-Encoding and Content-Length") }
            let codings = try HTTP1HeaderSection.transferCodings(section.transferEncoding)
            let chunkedCount = codings.reduce(0) { $0 + ($1 == "chunked" ? 1 : 0) }
            if chunkedCount > 1 { throw .malformed("chunked applied more than once") }
            // Chunked last: the chunks delimit the body (inner codings stay for the caller to
            // undo, as the headers say). Otherwise the body runs until the connection closes.
            return codings[codings.count - 1] == "chunked" ? .chunked : .untilClose
        }
        if let length = section.contentLength { return .length(length) }
        return .untilClose
    }
}
