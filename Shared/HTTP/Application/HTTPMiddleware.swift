/// One step around a handler: look at or change the request and context, call `next`,
/// look at or change the response. Throwing an `HTTPError` answers with it.
///
/// ```swift
/// struct Timing: HTTPMiddleware {
///     func handle(_ request: HTTPRequest, context: RequestContext, next: HTTPHandler) async throws -> HTTPResponse {
///         var response = try await next(request, context)
///         response.headers.add(name: "X-Handled-By", value: "timing")
///         return response
///     }
/// }
/// ```
public protocol HTTPMiddleware: Sendable {
    func handle(_ request: HTTPRequest, context: RequestContext, next: HTTPHandler) async throws -> HTTPResponse
}

/// A middleware from a closure.
public struct ClosureMiddleware: HTTPMiddleware {
    let body: @Sendable (HTTPRequest, RequestContext, HTTPHandler) async throws -> HTTPResponse
    public init(_ body: @escaping @Sendable (HTTPRequest, RequestContext, HTTPHandler) async throws -> HTTPResponse) {
        self.body = body
    }
    public func handle(_ request: HTTPRequest, context: RequestContext, next: HTTPHandler) async throws -> HTTPResponse {
        try await body(request, context, next)
    }
}
