/// Parses a header section or a trailer section (RFC 9112 §5), shared by the request and
/// response parsers. Field lines are parsed as soon as each one is complete and consumed
/// from the buffer, so a partial section costs no rescanning when more bytes arrive.
struct HTTP1HeaderSection: Sendable {
    private(set) var headers = HTTPHeaders()
    /// Bytes counted against `maxHeaderBytes`: the start line, then each field line and the
    /// final empty line; a trailer section starts from the byte count of its head.
    private(set) var byteCount = 0
    /// Trailer sections do not collect the framing fields below.
    private var isTrailer = false

    /// The value of every `Content-Length` field (all equal), if any.
    private(set) var contentLength: Int?
    /// The raw values of every `Transfer-Encoding` field.
    private(set) var transferEncoding: [String] = []
    /// How many `Host` fields.
    private(set) var hostCount = 0

    /// Starts a new section. `byteCount` is what already counts against the limit.
    mutating func reset(byteCount: Int, isTrailer: Bool) {
        headers = HTTPHeaders()  // a fresh array: the previous one now belongs to an event
        self.byteCount = byteCount
        self.isTrailer = isTrailer
        contentLength = nil
        transferEncoding = []
        hostCount = 0
    }

    /// Hands over the parsed fields.
    mutating func takeHeaders() -> HTTPHeaders {
        let h = headers
        headers = HTTPHeaders()
        return h
    }

    /// Consumes complete field lines from `buffer`. Returns true once the empty line ending
    /// the section has been consumed, false when more bytes are needed.
    mutating func read(from buffer: inout HTTP1InputBuffer, limits: HTTPParserLimits) throws(HTTPParseError) -> Bool {
        while true {
            guard let length = try buffer.nextLine(maxLength: limits.maxHeaderBytes - byteCount, overflow: .headerSection)
            else { return false }
            byteCount += length + 2
            if length == 0 {
                buffer.consume(2)
                return true
            }
            if headers.count >= limits.maxHeaderCount {
                throw HTTPParseError(.headersTooLarge, "more than \(limits.maxHeaderCount) header fields")
            }
            try buffer.withBytes(length) { (line) throws(HTTPParseError) in try self.parseFieldLine(line) }
            buffer.consume(length + 2)
        }
    }

    /// `field-name ":" OWS field-value OWS`, the line without its CRLF (never empty).
    private mutating func parseFieldLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) {
        let n = line.count
        if HTTP1Bytes.isWhitespace(line[0]) {
            throw .malformed("obsolete line folding or whitespace before a field name")
        }
        var i = 0
        while i < n, HTTP1Bytes.isToken(line[i]) { i += 1 }
        guard i < n else { throw .malformed("header field without a colon") }
        guard line[i] == HTTP1Bytes.colon else {
            if HTTP1Bytes.isWhitespace(line[i]) { throw .malformed("whitespace between a field name and the colon") }
            throw .malformed("invalid character in a field name")
        }
        guard i > 0 else { throw .malformed("empty field name") }
        let name = UnsafeBufferPointer(rebasing: line[0..<i])
        let value = HTTP1Bytes.trimmed(UnsafeBufferPointer(rebasing: line[(i + 1)...]))
        for b in value where !HTTP1Bytes.isFieldContent(b) {
            throw .malformed("invalid character in a field value")
        }
        if !isTrailer { try noteFramingField(name, value) }
        headers.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    private mutating func noteFramingField(_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) {
        switch name.count {
        case 4 where HTTP1Bytes.equalsToken(name, "host"):
            hostCount += 1
        case 14 where HTTP1Bytes.equalsToken(name, "content-length"):
            let length = try Self.parseContentLength(value)
            if let contentLength, contentLength != length {
                throw .malformed("conflicting Content-Length values")
            }
            contentLength = length
        case 17 where HTTP1Bytes.equalsToken(name, "transfer-encoding"):
            transferEncoding.append(String(decoding: value, as: UTF8.self))
        default:
            break
        }
    }

    /// `1*DIGIT`, or a list of identical such values (RFC 9110 §8.6).
    static func parseContentLength(_ value: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int {
        var result: Int?
        var current = 0
        var digits = 0
        var i = 0
        let n = value.count
        while true {
            // One list element: OWS 1*DIGIT OWS
            while i < n, HTTP1Bytes.isWhitespace(value[i]) { i += 1 }
            digits = 0
            current = 0
            while i < n, HTTP1Bytes.isDigit(value[i]) {
                let (m, o1) = current.multipliedReportingOverflow(by: 10)
                let (s, o2) = m.addingReportingOverflow(Int(value[i] &- 0x30))
                if o1 || o2 { throw .malformed("Content-Length overflows") }
                current = s
                digits += 1
                i += 1
            }
            guard digits > 0 else { throw .malformed("invalid Content-Length") }
            while i < n, HTTP1Bytes.isWhitespace(value[i]) { i += 1 }
            if let result, result != current { throw .malformed("conflicting Content-Length values") }
            result = current
            if i == n { return current }
            guard value[i] == 0x2C else { throw .malformed("invalid Content-Length") }
            i += 1
        }
    }

    /// The transfer codings named across the `Transfer-Encoding` values, lowercased, in order.
    /// A coding with parameters is kept as its name; `chunked` takes no parameters.
    static func transferCodings(_ values: [String]) throws(HTTPParseError) -> [String] {
        var codings: [String] = []
        for value in values {
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let item = element.trimmingSpaces()
                if item.isEmpty { continue }  // empty list elements are allowed (RFC 9110 §5.6.1)
                let name: Substring
                let hasParameters: Bool
                if let semicolon = item.firstIndex(of: ";") {
                    name = item[..<semicolon].trimmingSpaces()
                    hasParameters = true
                } else {
                    name = item
                    hasParameters = false
                }
                guard !name.isEmpty, name.utf8.allSatisfy(HTTP1Bytes.isToken) else {
                    throw .malformed("invalid transfer coding")
                }
                let lowercased = name.lowercased()
                if lowercased == "chunked" && hasParameters { throw .malformed("chunked takes no parameters") }
                codings.append(lowercased)
            }
        }
        guard !codings.isEmpty else { throw .malformed("empty Transfer-Encoding") }
        return codings
    }
}
