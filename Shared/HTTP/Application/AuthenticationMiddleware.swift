import Shared

/// The authentication hook: resolves a `Principal` for requests under the protected prefixes
/// and answers 401 without one. Services plug in token or API-key verification.
public struct AuthenticationMiddleware: HTTPMiddleware {
    /// Returns the caller, nil when no credential was presented; throws `HTTPError` for a bad one.
    public typealias Authenticator = @Sendable (HTTPRequest) async throws -> Principal?

    let protectedPrefixes: [String]
    let publicPaths: Set<String>
    let authenticate: Authenticator

    /// - Parameters:
    ///   - protectedPrefixes: Paths that need a principal (for example `["/v1/", "/internal/"]`).
    ///   - publicPaths: Exact paths inside those prefixes that do not (login, signup).
    public init(protectedPrefixes: [String], publicPaths: Set<String> = [], authenticate: @escaping Authenticator) {
        self.protectedPrefixes = protectedPrefixes
        self.publicPaths = publicPaths
        self.authenticate = authenticate
    }

    public func handle(_ request: HTTPRequest, context: RequestContext, next: HTTPHandler) async throws -> HTTPResponse {
        let path = String(request.path)
        let protected = protectedPrefixes.contains { path.hasPrefix($0) } && !publicPaths.contains(path)
        var context = context
        if let principal = try await authenticate(request) {
            context.principal = principal
        } else if protected {
            throw HTTPError.unauthorized()
        }
        return try await next(request, context)
    }
}

/// Guards `/internal/` routes with the shared service credential (`BULKHEAD_INTERNAL_TOKEN`),
/// compared in constant time. Internal routes answer 401 without it, whatever else is presented.
public struct InternalTokenMiddleware: HTTPMiddleware {
    let token: [UInt8]
    let prefix: String

    public init(token: String, prefix: String = "/internal/") {
        self.token = Array(token.utf8)
        self.prefix = prefix
    }

    public func handle(_ request: HTTPRequest, context: RequestContext, next: HTTPHandler) async throws -> HTTPResponse {
        guard request.path.hasPrefix(prefix) else { return try await next(request, context) }
        let presented = request.headers.first("authorization").flatMap { value -> [UInt8]? in
            guard value.count > 7, value.prefix(7).lowercased() == "bearer " else { return nil }
            return Array(value.dropFirst(7).utf8)
        }
        guard !token.isEmpty, let presented, Self.constantTimeEquals(presented, token) else {
            throw HTTPError(.unauthorized, code: "internal_auth_required", message: "This internal endpoint needs the service credential.")
        }
        var context = context
        context.principal = Principal(kind: .service, subject: "service", tenant: "", role: "service", scopes: ["internal"])
        return try await next(request, context)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<b.count { diff |= (i < a.count ? a[i] : 0) ^ b[i] }
        return diff == 0
    }
}
