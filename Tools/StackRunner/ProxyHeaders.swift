import BulkheadHTTP

/// Header rewriting for the reverse proxy (RFC 9110 §7.6.1): hop-by-hop fields stay on
/// their hop, the rest travels end to end, and the proxy adds its `X-Forwarded-*` fields.
public enum ProxyHeaders {
    /// Fields that describe one connection, never forwarded (lowercase).
    static let hopByHop: Set<String> = [
        "connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade",
    ]

    /// Whether `name` is hop-by-hop for a message whose `Connection` header listed `connectionTokens`.
    public static func isHopByHop(_ name: String, connectionTokens: [String] = []) -> Bool {
        let lower = name.lowercased()
        return hopByHop.contains(lower) || lower.hasPrefix("proxy-") || connectionTokens.contains(lower)
    }

    /// The headers sent upstream for `request`.
    ///
    /// Drops hop-by-hop fields (and any the client's `Connection` names), `Content-Length`
    /// (the client recomputes it) and `Expect` (the ingress already answered `100-continue`);
    /// keeps `Host`, `traceparent`, `X-Request-Id` and everything else; appends the peer to
    /// `X-Forwarded-For`; sets `X-Forwarded-Proto` and `X-Forwarded-Host`; adds
    /// `X-Request-Id: requestID` when the client sent none.
    public static func upstreamRequestHeaders(for request: HTTPRequest, requestID: String, scheme: String = "http") -> HTTPHeaders {
        let connectionTokens = request.headers.tokens("connection")
        var out = HTTPHeaders()
        var forwardedFor: [String] = []
        for field in request.headers {
            if isHopByHop(field.name, connectionTokens: connectionTokens) { continue }
            let lower = field.name.lowercased()
            switch lower {
            case "content-length", "expect", "x-forwarded-proto", "x-forwarded-host":
                continue
            case "x-forwarded-for":
                forwardedFor.append(field.value)
            default:
                out.add(name: field.name, value: field.value)
            }
        }
        if !request.remoteAddress.isEmpty { forwardedFor.append(request.remoteAddress) }
        if !forwardedFor.isEmpty { out.add(name: "X-Forwarded-For", value: forwardedFor.joined(separator: ", ")) }
        out.add(name: "X-Forwarded-Proto", value: scheme)
        if let host = request.headers.first("host") { out.add(name: "X-Forwarded-Host", value: host) }
        if !out.contains("x-request-id") { out.add(name: "X-Request-Id", value: requestID) }
        return out
    }

    /// The headers sent back to the client for an upstream response: hop-by-hop fields,
    /// `Content-Length` (the ingress streams, so it frames the body itself) and `Date`
    /// (the ingress's server writes a fresh one) are dropped; the rest passes unchanged.
    public static func downstreamResponseHeaders(_ headers: HTTPHeaders) -> HTTPHeaders {
        let connectionTokens = headers.tokens("connection")
        var out = HTTPHeaders()
        for field in headers {
            if isHopByHop(field.name, connectionTokens: connectionTokens) { continue }
            if HTTPHeaders.equalNames(field.name, "content-length") || HTTPHeaders.equalNames(field.name, "date") { continue }
            out.add(name: field.name, value: field.value)
        }
        return out
    }
}
