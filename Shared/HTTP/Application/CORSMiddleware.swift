/// CORS for browser front ends: answers preflights and adds `Access-Control-Allow-Origin`
/// for allowed origins only.
public struct CORSMiddleware: HTTPMiddleware {
    public struct Configuration: Sendable {
        /// Allowed origins; `["*"]` allows any (without credentials).
        public var allowedOrigins: [String]
        public var allowedMethods: [String] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
        public var allowedHeaders: [String] = ["Authorization", "Content-Type", "Idempotency-Key", "If-Match", "Last-Event-ID", "X-Request-Id", "traceparent"]
        public var exposedHeaders: [String] = ["ETag", "X-Request-Id", "Retry-After", "Location"]
        public var maxAge: Int = 600
        public init(allowedOrigins: [String]) { self.allowedOrigins = allowedOrigins }
    }

    let configuration: Configuration
    public init(_ configuration: Configuration) { self.configuration = configuration }

    public func handle(_ request: HTTPRequest, context: RequestContext, next: HTTPHandler) async throws -> HTTPResponse {
        guard let origin = request.headers.first("origin") else { return try await next(request, context) }
        let any = configuration.allowedOrigins.contains("*")
        guard any || configuration.allowedOrigins.contains(origin) else { return try await next(request, context) }
        let allowOrigin = any ? "*" : origin
        if request.method == .options, request.headers.contains("access-control-request-method") {
            var h = HTTPHeaders()
            h.add(name: "Access-Control-Allow-Origin", value: allowOrigin)
            h.add(name: "Access-Control-Allow-Methods", value: configuration.allowedMethods.joined(separator: ", "))
            h.add(name: "Access-Control-Allow-Headers", value: configuration.allowedHeaders.joined(separator: ", "))
            h.add(name: "Access-Control-Max-Age", value: String(configuration.maxAge))
            if !any { h.add(name: "Vary", value: "Origin") }
            return HTTPResponse(status: .noContent, headers: h)
        }
        var response: HTTPResponse
        do {
            response = try await next(request, context)
        } catch let error as HTTPError {
            response = error.response
        }
        response.headers.replaceOrAdd(name: "Access-Control-Allow-Origin", value: allowOrigin)
        response.headers.replaceOrAdd(name: "Access-Control-Expose-Headers", value: configuration.exposedHeaders.joined(separator: ", "))
        if !any { response.headers.add(name: "Vary", value: "Origin") }
        return response
    }
}
