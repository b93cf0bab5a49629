/// Bounds applied by `HTTPRequestParser` and `HTTPResponseParser` so that a peer cannot make
/// them buffer without limit.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Start line + header section + trailer section, line terminators included.
    public var maxHeaderBytes: Int
    /// Header fields per section (the trailer section is counted on its own).
    public var maxHeaderCount: Int
    /// Body limit of each request unless the caller sets another with `setBodyLimit(_:)`.
    public var defaultMaxBodyBytes: Int
    /// One chunk-size line (size, extensions and CRLF).
    public var maxChunkLineBytes: Int

    public init(
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderCount: Int = 100,
        defaultMaxBodyBytes: Int = 1 << 20,
        maxChunkLineBytes: Int = 4096
    ) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.defaultMaxBodyBytes = defaultMaxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
    }
}

/// How the body of a request is delimited (RFC 9112 §6).
public enum HTTPBodyFraming: Sendable, Equatable {
    /// No body at all.
    case none
    /// Exactly this many bytes (`Content-Length`).
    case length(Int)
    /// `Transfer-Encoding: chunked`.
    case chunked
}

/// What `HTTPRequestParser.next()` produces, in order: one `head`, zero or more `body`
/// pieces (never empty), then one `end`.
public enum HTTPParseEvent: Sendable {
    case head(HTTPRequestHead, HTTPBodyFraming)
    case body([UInt8])
    case end(trailers: HTTPHeaders)
}

/// Why a message could not be parsed. `status` is the response a server should send before
/// closing the connection; `code` is a stable identifier for logs and error bodies.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case malformed
        case headersTooLarge
        case bodyTooLarge
        case unsupportedTransferCoding
        case versionNotSupported
    }

    public var kind: Kind
    public var message: String
    public var status: HTTPStatus
    public var code: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
        switch kind {
        case .malformed:
            status = .badRequest
            code = "malformed_request"
        case .headersTooLarge:
            status = .headersTooLarge
            code = "headers_too_large"
        case .bodyTooLarge:
            status = .payloadTooLarge
            code = "body_too_large"
        case .unsupportedTransferCoding:
            status = .notImplemented
            code = "unsupported_transfer_coding"
        case .versionNotSupported:
            status = .httpVersionNotSupported
            code = "version_not_supported"
        }
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static func malformed(_ message: String) -> HTTPParseError { HTTPParseError(.malformed, message) }
}
