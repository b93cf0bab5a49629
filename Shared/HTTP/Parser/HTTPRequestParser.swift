/// An incremental HTTP/1.1 request parser (RFC 9112): a value-type state machine fed with
/// whatever bytes the socket produced, with no I/O of its own.
///
/// ```swift
/// parser.append(bytesRead)
/// while let event = try parser.next() {
///     switch event {
///     case .head(let head, let framing): ...  // optionally parser.setBodyLimit(...)
///     case .body(let bytes): ...
///     case .end(let trailers): ...            // ready for the next pipelined request
///     }
/// }
/// // nil: read more bytes
/// ```
///
/// A thrown `HTTPParseError` carries the status to answer with; the parser then stays
/// failed and the connection must be closed.
public struct HTTPRequestParser: Sendable {
    /// Empty lines tolerated before a request line (RFC 9112 §2.2).
    static let maxLeadingEmptyLines = 8

    private enum Phase: Sendable {
        /// Waiting for a request line (possibly after empty lines).
        case requestLine
        /// Request line parsed, reading header fields.
        case headers
        /// Head returned, reading the body.
        case body
        case failed(HTTPParseError)
    }

    public let limits: HTTPParserLimits
    private var buffer = HTTP1InputBuffer()
    private var phase = Phase.requestLine
    private var emptyLines = 0
    private var section = HTTP1HeaderSection()
    private var body = HTTP1BodyDecoder()
    private var bodyLimit: Int
    // The request line being completed by its header section.
    private var method = HTTPMethod.get
    private var target = ""
    private var version = HTTPVersion.http1_1

    public init(limits: HTTPParserLimits = .init()) {
        self.limits = limits
        self.bodyLimit = limits.defaultMaxBodyBytes
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

    /// The body limit of the current request: the one whose head was just returned, or, if
    /// called between requests, the next one. Reset to `limits.defaultMaxBodyBytes` after
    /// each request. A `Content-Length` above it makes the next `next()` throw `bodyTooLarge`.
    public mutating func setBodyLimit(_ bytes: Int) {
        bodyLimit = max(0, bytes)
    }

    // MARK: State

    /// Bytes appended and not yet consumed.
    public var bufferedBytes: Int { buffer.count }

    /// No request in progress and nothing buffered: the connection is idle.
    public var isAtRequestBoundary: Bool {
        if case .requestLine = phase { return buffer.isEmpty }
        return false
    }

    /// Some bytes of a request whose head has not been returned yet have arrived
    /// (the header timeout applies). False while reading a body.
    public var hasStartedRequest: Bool {
        switch phase {
        case .requestLine: !buffer.isEmpty
        case .headers, .failed: true
        case .body: false
        }
    }

    /// Whether the head of the current request has been returned and its `.end` not yet.
    public var isReadingBody: Bool {
        if case .body = phase { return true }
        return false
    }

    /// Removes and returns every unconsumed byte, e.g. the first bytes of another protocol
    /// after a request that upgraded the connection. Call it after the request's `.end`.
    public mutating func takeBufferedBytes() -> [UInt8] {
        buffer.takeAll()
    }

    // MARK: Parsing

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPParseEvent? {
        if case .failed(let error) = phase { throw error }
        do {
            return try step()
        } catch {
            phase = .failed(error)
            buffer.removeAll()
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPParseEvent? {
        while true {
            switch phase {
            case .requestLine:
                guard let length = try buffer.nextLine(maxLength: limits.maxHeaderBytes, overflow: .headerSection) else {
                    return nil
                }
                if length == 0 {
                    emptyLines += 1
                    if emptyLines > Self.maxLeadingEmptyLines { throw .malformed("too many empty lines before the request line") }
                    buffer.consume(2)
                    continue
                }
                (method, target, version) = try buffer.withBytes(length) { (line) throws(HTTPParseError) in
                    try Self.parseRequestLine(line)
                }
                buffer.consume(length + 2)
                section.reset(byteCount: length + 2, isTrailer: false)
                phase = .headers

            case .headers:
                guard try section.read(from: &buffer, limits: limits) else { return nil }
                let framing = try requestFraming()
                switch framing {
                case .none: body.start(.none, headBytes: section.byteCount)
                case .length(let n): body.start(.length(n), headBytes: section.byteCount)
                case .chunked: body.start(.chunked, headBytes: section.byteCount)
                }
                phase = .body
                let head = HTTPRequestHead(method: method, target: target, version: version, headers: section.takeHeaders())
                target = ""
                return .head(head, framing)

            case .body:
                guard let event = try body.next(&buffer, bodyLimit: bodyLimit, limits: limits, eof: false) else { return nil }
                switch event {
                case .body(let bytes):
                    return .body(bytes)
                case .end(let trailers):
                    phase = .requestLine
                    emptyLines = 0
                    bodyLimit = limits.defaultMaxBodyBytes
                    return .end(trailers: trailers)
                }

            case .failed(let error):
                throw error
            }
        }
    }

    /// `method SP request-target SP HTTP-version`, without CRLF (never empty).
    static func parseRequestLine(
        _ line: UnsafeBufferPointer<UInt8>
    ) throws(HTTPParseError) -> (HTTPMethod, String, HTTPVersion) {
        let n = line.count
        var i = 0
        while i < n, HTTP1Bytes.isToken(line[i]) { i += 1 }
        guard i > 0, i < n, line[i] == HTTP1Bytes.sp else { throw .malformed("invalid method in the request line") }
        let methodEnd = i
        i += 1
        let targetStart = i
        while i < n, HTTP1Bytes.isVisibleASCII(line[i]) { i += 1 }
        guard i > targetStart else { throw .malformed("empty request target") }
        guard i < n, line[i] == HTTP1Bytes.sp else { throw .malformed("invalid request target") }
        let targetEnd = i
        i += 1
        let version = try HTTP1Bytes.parseVersion(UnsafeBufferPointer(rebasing: line[i...]))
        let method = HTTPMethod(String(decoding: UnsafeBufferPointer(rebasing: line[0..<methodEnd]), as: UTF8.self))
        let target = String(decoding: UnsafeBufferPointer(rebasing: line[targetStart..<targetEnd]), as: UTF8.self)
        return (method, target, version)
    }

    /// RFC 9112 §6.1-6.3 for requests, refusing every ambiguity that could desynchronise a
    /// proxy and this server (request smuggling).
    private func requestFraming() throws(HTTPParseError) -> HTTPBodyFraming {
        if section.hostCount > 1 { throw .malformed("more than one Host field") }
        if section.hostCount == 0 && version == .http1_1 { throw .malformed("missing Host field") }
        if !section.transferEncoding.isEmpty {
            if version == .http1_0 { throw .malformed("Transfer-Encoding in an HTTP/1.0 request") }
            if section.contentLength != nil { throw .malformed("both Transfer-Encoding and Content-Length") }
            let codings = try HTTP1HeaderSection.transferCodings(section.transferEncoding)
            let chunkedCount = codings.reduce(0) { $0 + ($1 == "chunked" ? 1 : 0) }
            if chunkedCount > 1 { throw .malformed("chunked applied more than once") }
            if chunkedCount == 1 && codings[codings.count - 1] != "chunked" {
                throw .malformed("chunked is not the final transfer coding")
            }
            guard chunkedCount == 1 && codings.count == 1 else {
                throw HTTPParseError(.unsupportedTransferCoding, "unsupported transfer coding")
            }
            return .chunked
        }
        if let length = section.contentLength { return .length(length) }
        return .none
    }
}
