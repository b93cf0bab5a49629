import BulkheadHTTP

/// Serialises an `HTTPClientRequest` into the bytes sent on the wire (head and body).
enum RequestEncoder {
    /// Validates and encodes; throws `.invalidRequest` for header injection attempts.
    static func encode(_ request: HTTPClientRequest, url: HTTPClientURL, userAgent: String?) throws(HTTPClientError) -> [UInt8] {
        let method = request.method.rawValue
        guard !method.isEmpty, method.utf8.allSatisfy(isToken) else {
            throw HTTPClientError(.invalidRequest, "invalid method '\(method)'")
        }
        var out: [UInt8] = []
        out.reserveCapacity(256 + request.body.count)
        out.append(contentsOf: method.utf8)
        out.append(0x20)
        out.append(contentsOf: url.target.utf8)
        out.append(contentsOf: " HTTP/1.1\r\n".utf8)

        var hasHost = false
        var hasUserAgent = false
        for field in request.headers {
            guard !field.name.isEmpty, field.name.utf8.allSatisfy(isToken) else {
                throw HTTPClientError(.invalidRequest, "invalid header name '\(field.name)'")
            }
            guard field.value.utf8.allSatisfy(isFieldContent) else {
                throw HTTPClientError(.invalidRequest, "the value of header '\(field.name)' contains a control character")
            }
            if HTTPHeaders.equalNames(field.name, "content-length") || HTTPHeaders.equalNames(field.name, "transfer-encoding") {
                continue  // framing is ours
            }
            if request.traceparent != nil && HTTPHeaders.equalNames(field.name, "traceparent") { continue }
            if HTTPHeaders.equalNames(field.name, "host") {
                if hasHost { continue }
                hasHost = true
            }
            if HTTPHeaders.equalNames(field.name, "user-agent") { hasUserAgent = true }
            append(field.name, field.value, to: &out)
        }
        if !hasHost { append("Host", url.hostHeader, to: &out) }
        if !hasUserAgent, let userAgent {
            guard userAgent.utf8.allSatisfy(isFieldContent) else {
                throw HTTPClientError(.invalidRequest, "the configured user agent contains a control character")
            }
            append("User-Agent", userAgent, to: &out)
        }
        if let traceparent = request.traceparent {
            guard traceparent.utf8.allSatisfy(isFieldContent) else {
                throw HTTPClientError(.invalidRequest, "traceparent contains a control character")
            }
            append("traceparent", traceparent, to: &out)
        }
        if !request.body.isEmpty || bodyExpected(request.method) {
            append("Content-Length", String(request.body.count), to: &out)
        }
        out.append(contentsOf: "\r\n".utf8)
        out.append(contentsOf: request.body)
        return out
    }

    /// Methods whose requests normally carry a body, so an empty one is announced as `Content-Length: 0`.
    private static func bodyExpected(_ method: HTTPMethod) -> Bool {
        method == .post || method == .put || method == .patch
    }

    private static func append(_ name: String, _ value: String, to out: inout [UInt8]) {
        out.append(contentsOf: name.utf8)
        out.append(contentsOf: ": ".utf8)
        out.append(contentsOf: value.utf8)
        out.append(contentsOf: "\r\n".utf8)
    }

    private static func isToken(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// Visible characters, SP, HTAB and obs-text; no CR, LF, NUL or other controls.
    private static func isFieldContent(_ b: UInt8) -> Bool { (b >= 0x20 && b != 0x7F) || b == 0x09 }
}
