/// The request line and header section of a request, as parsed.
public struct HTTPRequestHead: Sendable {
    public var method: HTTPMethod
    /// The request target as sent (`/path?query`).
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
    }

    /// The path part of the target, without the query.
    public var path: Substring {
        if let q = target.firstIndex(of: "?") { return target[..<q] }
        return target[...]
    }
    /// The raw query string after `?`, if any.
    public var query: Substring? {
        guard let q = target.firstIndex(of: "?") else { return nil }
        return target[target.index(after: q)...]
    }

    /// Whether the connection stays open after this request (RFC 9112 §9.3).
    public var keepAlive: Bool {
        let connection = headers.tokens("connection")
        if connection.contains("close") { return false }
        if version.major == 1 && version.minor == 0 { return connection.contains("keep-alive") }
        return version.major >= 1
    }
}
