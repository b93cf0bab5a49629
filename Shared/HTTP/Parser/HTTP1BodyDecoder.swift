/// Decodes one message body (fixed length, chunked with trailers, or until close), shared by
/// the request and response parsers. Body bytes are handed out as soon as they are buffered.
struct HTTP1BodyDecoder: Sendable {
    enum Event {
        case body([UInt8])
        case end(HTTPHeaders)
    }

    private enum State: Sendable {
        case none
        case length(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
        case done
    }

    private var state = State.done
    /// Body bytes handed out so far.
    private(set) var received = 0
    /// The declared `Content-Length`, checked against the limit.
    private var declaredLength = 0
    /// Bytes of the head, which the trailer section adds to.
    private var headBytes = 0
    private var trailers = HTTP1HeaderSection()

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// Whether the body is delimited by the end of the connection.
    var isUntilClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    enum Framing { case none, length(Int), chunked, untilClose }

    mutating func start(_ framing: Framing, headBytes: Int) {
        received = 0
        declaredLength = 0
        self.headBytes = headBytes
        switch framing {
        case .none: state = .none
        case .length(let n):
            declaredLength = n
            state = .length(remaining: n)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }

    /// The next body piece or the end, nil when more bytes are needed. With `eof`, no more
    /// bytes will come: this ends an until-close body and fails any other incomplete body.
    mutating func next(
        _ buffer: inout HTTP1InputBuffer, bodyLimit: Int, limits: HTTPParserLimits, eof: Bool
    ) throws(HTTPParseError) -> Event? {
        while true {
            switch state {
            case .none:
                state = .done
                return .end(HTTPHeaders())

            case .length(let remaining):
                if declaredLength > bodyLimit {
                    throw HTTPParseError(.bodyTooLarge, "Content-Length \(declaredLength) exceeds the body limit of \(bodyLimit) bytes")
                }
                if remaining == 0 {
                    state = .done
                    return .end(HTTPHeaders())
                }
                let n = min(remaining, buffer.count)
                if n == 0 { return try needMore(eof) }
                state = .length(remaining: remaining - n)
                received += n
                return .body(buffer.take(n))

            case .chunkSize:
                guard let length = try buffer.nextLine(maxLength: limits.maxChunkLineBytes, overflow: .chunkLine) else {
                    return try needMore(eof)
                }
                let size = try buffer.withBytes(length) { (line) throws(HTTPParseError) in try Self.parseChunkSizeLine(line) }
                buffer.consume(length + 2)
                if size == 0 {
                    trailers.reset(byteCount: headBytes, isTrailer: true)
                    state = .trailers
                } else {
                    if size > bodyLimit - received {
                        throw HTTPParseError(.bodyTooLarge, "chunked body exceeds the body limit of \(bodyLimit) bytes")
                    }
                    state = .chunkData(remaining: size)
                }

            case .chunkData(let remaining):
                let n = min(remaining, buffer.count)
                if n == 0 { return try needMore(eof) }
                state = n == remaining ? .chunkDataEnd : .chunkData(remaining: remaining - n)
                received += n
                return .body(buffer.take(n))

            case .chunkDataEnd:
                let available = buffer.count
                if available >= 1 && buffer[0] != HTTP1Bytes.cr || available >= 2 && buffer[1] != HTTP1Bytes.lf {
                    throw .malformed("chunk data not followed by CRLF")
                }
                if available < 2 { return try needMore(eof) }
                buffer.consume(2)
                state = .chunkSize

            case .trailers:
                guard try trailers.read(from: &buffer, limits: limits) else { return try needMore(eof) }
                state = .done
                return .end(trailers.takeHeaders())

            case .untilClose:
                let n = buffer.count
                if n > 0 {
                    if n > bodyLimit - received {
                        throw HTTPParseError(.bodyTooLarge, "body exceeds the body limit of \(bodyLimit) bytes")
                    }
                    received += n
                    return .body(buffer.takeAll())
                }
                if eof {
                    state = .done
                    return .end(HTTPHeaders())
                }
                return nil

            case .done:
                return nil
            }
        }
    }

    private func needMore(_ eof: Bool) throws(HTTPParseError) -> Event? {
        if eof { throw .malformed("connection closed before the body was complete") }
        return nil
    }

    /// `chunk-size [ chunk-ext ]` (RFC 9112 §7.1): 1 to 16 hex digits, then extensions
    /// `*( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )`, validated and ignored.
    static func parseChunkSizeLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> Int {
        let n = line.count
        var i = 0
        var size = 0
        while i < n, let digit = HTTP1Bytes.hexValue(line[i]) {
            guard i < 16, size <= (Int.max - digit) >> 4 else { throw .malformed("chunk size too large") }
            size = size << 4 | digit
            i += 1
        }
        guard i > 0 else { throw .malformed("invalid chunk size") }

        func skipWhitespace(_ i: inout Int) {
            while i < n, HTTP1Bytes.isWhitespace(line[i]) { i += 1 }
        }
        func token(_ i: inout Int) -> Bool {
            let start = i
            while i < n, HTTP1Bytes.isToken(line[i]) { i += 1 }
            return i > start
        }
        func quotedString(_ i: inout Int) -> Bool {
            guard i < n, line[i] == HTTP1Bytes.dquote else { return false }
            i += 1
            while i < n {
                let b = line[i]
                if b == HTTP1Bytes.dquote {
                    i += 1
                    return true
                }
                if b == HTTP1Bytes.backslash {
                    i += 1
                    guard i < n, HTTP1Bytes.isFieldContent(line[i]) else { return false }
                } else if !HTTP1Bytes.isFieldContent(b) {
                    return false
                }
                i += 1
            }
            return false
        }

        while i < n {
            // Whitespace is only allowed before ";" and around "=", never at the end.
            skipWhitespace(&i)
            guard i < n, line[i] == HTTP1Bytes.semicolon else { throw .malformed("invalid chunk size line") }
            i += 1
            skipWhitespace(&i)
            guard token(&i) else { throw .malformed("invalid chunk extension") }
            var j = i
            skipWhitespace(&j)
            if j < n, line[j] == HTTP1Bytes.equals {
                j += 1
                skipWhitespace(&j)
                guard token(&j) || quotedString(&j) else { throw .malformed("invalid chunk extension value") }
                i = j
            }
        }
        return size
    }
}
