#if canImport(Glibc)
import Glibc
#endif

/// Serialises response heads; keeps a `Date` value cached per second like nginx.
struct ResponseEncoder {
    private var cachedSecond: Int = -1
    private var cachedDateLine: [UInt8] = []
    let serverLine: [UInt8]

    init(serverName: String?) {
        serverLine = serverName.map { Array("Server: \($0)\r\n".utf8) } ?? []
    }

    /// Whether a response with this status to this method carries no body at all.
    static func forbidsBody(status: Int, method: HTTPMethod) -> Bool {
        status < 200 || status == 204 || status == 304
    }

    mutating func dateLine() -> [UInt8] {
        var now = time(nil)
        if Int(now) != cachedSecond {
            cachedSecond = Int(now)
            var parts = tm()
            gmtime_r(&now, &parts)
            let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
            let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
            func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
            let text = "Date: \(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT\r\n"
            cachedDateLine = Array(text.utf8)
        }
        return cachedDateLine
    }

    /// Appends the status line and headers. `contentLength` nil with `chunked` false means
    /// no length header (bodiless statuses, or close-delimited HTTP/1.0 streams).
    mutating func encodeHead(
        into out: inout [UInt8], version: HTTPVersion, status: HTTPStatus, headers: HTTPHeaders,
        contentLength: Int?, chunked: Bool, keepAlive: Bool
    ) {
        out.append(contentsOf: Self.statusLine(version: version, status: status))
        out.append(contentsOf: dateLine())
        out.append(contentsOf: serverLine)
        for field in headers {
            if HTTPHeaders.equalNames(field.name, "content-length") || HTTPHeaders.equalNames(field.name, "transfer-encoding")
                || HTTPHeaders.equalNames(field.name, "connection")
            {
                // The connection owns framing and persistence; upgrades keep their Connection header.
                if !(status.code == 101 && HTTPHeaders.equalNames(field.name, "connection")) { continue }
            }
            out.append(contentsOf: field.name.utf8)
            out.append(UInt8(ascii: ":"))
            out.append(UInt8(ascii: " "))
            out.append(contentsOf: Self.sanitized(field.value).utf8)
            out.append(13)
            out.append(10)
        }
        if let contentLength {
            out.append(contentsOf: "Content-Length: ".utf8)
            out.append(contentsOf: String(contentLength).utf8)
            out.append(13)
            out.append(10)
        } else if chunked {
            out.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        }
        if status.code != 101 {
            if !keepAlive {
                out.append(contentsOf: "Connection: close\r\n".utf8)
            } else if version == .http1_0 {
                out.append(contentsOf: "Connection: keep-alive\r\n".utf8)
            }
        }
        out.append(13)
        out.append(10)
    }

    /// Header values must not smuggle CR/LF into the head.
    static func sanitized(_ value: String) -> String {
        if !value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) { return value }
        return String(value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" && $0 != "\0" })
    }

    private static let ok11 = Array("HTTP/1.1 200 OK\r\n".utf8)

    static func statusLine(version: HTTPVersion, status: HTTPStatus) -> [UInt8] {
        if status.code == 200 && version == .http1_1 { return ok11 }
        let v = version == .http1_0 ? "HTTP/1.0" : "HTTP/1.1"
        return Array("\(v) \(status.code) \(sanitized(status.reason))\r\n".utf8)
    }
}
