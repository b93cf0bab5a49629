/// An `http://` or `https://` URL split into what the client needs: scheme, host, port and
/// the request target (`/path?query`).
///
/// Accepted: `scheme://host[:port][/path][?query][#fragment]`, where host is a DNS name,
/// an IPv4 literal or a bracketed IPv6 literal. The scheme and host are case-insensitive
/// (kept lowercased); the fragment is dropped; spaces and non-ASCII bytes in the path and
/// query are percent-encoded. Userinfo (`user:pass@`) is refused: send an `Authorization`
/// header instead.
///
/// ```swift
/// let url = try HTTPClientURL("https://api.openai.com/v1/chat/completions")
/// url.host    // "api.openai.com"
/// url.port    // 443
/// url.target  // "/v1/chat/completions"
/// ```
public struct HTTPClientURL: Sendable, Hashable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case http
        case https

        public var defaultPort: Int { self == .http ? 80 : 443 }
    }

    public let scheme: Scheme
    /// Lowercased host without brackets (`::1` for `[::1]`).
    public let host: String
    public let port: Int
    /// Path and query as sent on the request line; at least `/`.
    public let target: String

    /// Whether `host` is an IPv6 literal (needs brackets in the Host header).
    public var isIPv6Literal: Bool { host.contains(":") }

    /// The `Host` header value: the port is included only when it is not the scheme's default.
    public var hostHeader: String {
        let h = isIPv6Literal ? "[\(host)]" : host
        return port == scheme.defaultPort ? h : "\(h):\(port)"
    }

    public var description: String { "\(scheme.rawValue)://\(hostHeader)\(target)" }

    /// Parses `string`; throws `HTTPClientError` of kind `.invalidURL` with the reason.
    public init(_ string: String) throws(HTTPClientError) {
        let bytes = Array(string.utf8)
        guard let schemeEnd = Self.find(bytes, "://", from: 0) else {
            throw .invalidURL("'\(string)' has no scheme (expected http:// or https://)")
        }
        let schemeText = String(decoding: bytes[0..<schemeEnd], as: UTF8.self).lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw .invalidURL("unsupported scheme '\(schemeText)' in '\(string)' (expected http or https)")
        }
        self.scheme = scheme

        // Authority: up to the first "/", "?" or "#".
        let authorityStart = schemeEnd + 3
        var i = authorityStart
        while i < bytes.count, bytes[i] != UInt8(ascii: "/"), bytes[i] != UInt8(ascii: "?"), bytes[i] != UInt8(ascii: "#") {
            i += 1
        }
        let authority = bytes[authorityStart..<i]
        guard !authority.isEmpty else { throw .invalidURL("'\(string)' has no host") }
        if authority.contains(UInt8(ascii: "@")) {
            throw .invalidURL("credentials in URLs are not supported ('\(string)'); send an Authorization header")
        }

        var hostPart: ArraySlice<UInt8>
        var portPart: ArraySlice<UInt8>?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else {
                throw .invalidURL("unterminated IPv6 literal in '\(string)'")
            }
            hostPart = authority[(authority.startIndex + 1)..<close]
            let rest = authority[(close + 1)...]
            if let colon = rest.first {
                guard colon == UInt8(ascii: ":") else { throw .invalidURL("unexpected characters after the IPv6 literal in '\(string)'") }
                portPart = rest.dropFirst()
            }
            guard !hostPart.isEmpty, hostPart.allSatisfy({ Self.isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else {
                throw .invalidURL("invalid IPv6 literal in '\(string)'")
            }
        } else {
            if let colon = authority.lastIndex(of: UInt8(ascii: ":")) {
                hostPart = authority[authority.startIndex..<colon]
                portPart = authority[(colon + 1)...]
            } else {
                hostPart = authority
            }
            guard !hostPart.isEmpty else { throw .invalidURL("'\(string)' has no host") }
            guard hostPart.allSatisfy(Self.isHostByte) else {
                throw .invalidURL("invalid character in the host of '\(string)'")
            }
        }
        host = String(decoding: hostPart, as: UTF8.self).lowercased()

        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                throw .invalidURL("invalid port in '\(string)'")
            }
            let value = portPart.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value >= 1 && value <= 65535 else { throw .invalidURL("port \(value) out of range in '\(string)'") }
            port = value
        } else {
            port = scheme.defaultPort
        }

        // Path and query, without the fragment.
        var end = i
        while end < bytes.count, bytes[end] != UInt8(ascii: "#") { end += 1 }
        var out: [UInt8] = []
        out.reserveCapacity(end - i + 1)
        if i == end || bytes[i] == UInt8(ascii: "?") { out.append(UInt8(ascii: "/")) }
        for b in bytes[i..<end] {
            if b < 0x20 || b == 0x7F {
                throw .invalidURL("control character in the path or query of the URL")
            }
            if b == 0x20 || b >= 0x80 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "<") || b == UInt8(ascii: ">") {
                out.append(UInt8(ascii: "%"))
                out.append(Self.hexDigits[Int(b >> 4)])
                out.append(Self.hexDigits[Int(b & 0x0F)])
            } else {
                out.append(b)
            }
        }
        target = String(decoding: out, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func isHex(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66)
    }

    /// unreserved / pct-encoded / sub-delims minus a few that make no sense in a host we dial.
    private static func isHostByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        default: false
        }
    }

    private static func find(_ bytes: [UInt8], _ needle: StaticString, from: Int) -> Int? {
        let n = needle.utf8CodeUnitCount
        let p = needle.utf8Start
        guard bytes.count >= n else { return nil }
        var i = from
        outer: while i + n <= bytes.count {
            // The scheme must be letters, digits, "+", "-", "." before "://".
            for k in 0..<n where bytes[i + k] != p[k] {
                let c = bytes[i]
                let ok = (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39)
                    || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".")
                if !ok { return nil }
                i += 1
                continue outer
            }
            return i > 0 ? i : nil
        }
        return nil
    }
}
