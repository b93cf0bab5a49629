import BulkheadHTTP

/// The services the ingress forwards to.
public enum IngressUpstream: String, Sendable, CaseIterable {
    case auth
    case inferenceGateway = "inference-gateway"
    case apiCore = "api-core"
}

/// Where the ingress sends a request path.
public enum IngressRoute: Sendable, Equatable {
    /// Forward to this upstream.
    case forward(IngressUpstream)
    /// `/internal/...`: service-to-service endpoints stay closed to the public (404).
    case internalRefused
    /// A path with `.` or `..` segments (also percent-encoded): refused (404) rather than
    /// letting an upstream resolve it somewhere unexpected.
    case unsafePath
    /// Nothing routes here (404).
    case notFound
}

/// Path-prefix routing, as an ingress controller would do it.
///
/// A prefix matches on segment boundaries: `/v1/jobs` matches `/v1/jobs`, `/v1/jobs/42`
/// and `/v1/jobs?x=1`, but not `/v1/jobsx`. Paths are judged after percent-decoding and
/// collapsing repeated slashes, so `/%69nternal/x` and `//internal/x` are refused like
/// `/internal/x`; the request target itself is forwarded unchanged.
///
/// ```swift
/// IngressRouteTable.standard.route(path: "/v1/chat/completions")  // .forward(.inferenceGateway)
/// IngressRouteTable.standard.route(path: "/internal/usage")       // .internalRefused
/// ```
public struct IngressRouteTable: Sendable {
    /// One prefix rule.
    public struct Rule: Sendable, Equatable {
        /// Without a trailing slash: `/v1/auth`.
        public var prefix: String
        public var upstream: IngressUpstream
        public init(prefix: String, upstream: IngressUpstream) {
            var p = prefix
            while p.count > 1 && p.hasSuffix("/") { p.removeLast() }
            self.prefix = p
            self.upstream = upstream
        }
    }

    public let rules: [Rule]

    public init(rules: [Rule]) {
        // Longest prefix first, so a more specific rule wins whatever the declaration order.
        self.rules = rules.sorted { $0.prefix.utf8.count > $1.prefix.utf8.count }
    }

    /// The Bulkhead routes: auth, inference and the public API.
    public static let standard = IngressRouteTable(rules: [
        Rule(prefix: "/v1/auth/", upstream: .auth),
        Rule(prefix: "/v1/api-keys", upstream: .auth),
        Rule(prefix: "/.well-known/", upstream: .auth),
        Rule(prefix: "/v1/chat/completions", upstream: .inferenceGateway),
        Rule(prefix: "/v1/embeddings", upstream: .inferenceGateway),
        Rule(prefix: "/v1/models", upstream: .inferenceGateway),
        Rule(prefix: "/v1/me/", upstream: .apiCore),
        Rule(prefix: "/v1/tenant/", upstream: .apiCore),
        Rule(prefix: "/v1/jobs", upstream: .apiCore),
        Rule(prefix: "/v1/stream", upstream: .apiCore),
        Rule(prefix: "/v1/usage", upstream: .apiCore),
        Rule(prefix: "/openapi.json", upstream: .apiCore),
    ])

    /// Decides where `path` (no query; a `?...` suffix is ignored anyway) goes.
    public func route(path rawPath: Substring) -> IngressRoute {
        var path = rawPath
        if let q = path.firstIndex(of: "?") { path = path[..<q] }
        guard path.first == "/", let segments = Self.segments(of: path) else { return .notFound }
        if segments.contains(where: { $0 == "." || $0 == ".." }) { return .unsafePath }
        if let first = segments.first, first.lowercased() == "internal" { return .internalRefused }
        let normalized = "/" + segments.joined(separator: "/")
        for rule in rules where Self.matches(normalized, prefix: rule.prefix) {
            return .forward(rule.upstream)
        }
        return .notFound
    }

    public func route(path: String) -> IngressRoute { route(path: path[...]) }

    private static func matches(_ path: String, prefix: String) -> Bool {
        guard path.hasPrefix(prefix) else { return false }
        let rest = path.utf8.dropFirst(prefix.utf8.count)
        return rest.isEmpty || rest.first == UInt8(ascii: "/")
    }

    /// Percent-decoded segments with empty ones dropped (as the routers upstream do);
    /// nil when an escape is malformed or the bytes are not UTF-8. A decoded `/` inside a segment splits it too.
    static func segments(of path: Substring) -> [String]? {
        var out: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: true) {
            guard let decoded = PercentDecoding.decode(raw) else { return nil }
            out.append(contentsOf: decoded.split(separator: "/", omittingEmptySubsequences: true).map(String.init))
        }
        return out
    }
}
