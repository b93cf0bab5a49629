import BulkheadObservability
import Shared

/// Router plus middleware as an `HTTPResponder`, with the defaults every service wants built in:
/// request ids, W3C trace context, metrics by route and status, an access log, and errors
/// rendered as `{"error":{"code","message"}}`.
///
/// ```swift
/// var router = Router()
/// router.get("/hello") { _, _ in .text("hi") }
/// let app = HTTPApplication(router: router, logger: Logger(service: "demo"))
/// let server = try HTTPServer(configuration: config, responder: app)
/// ```
public final class HTTPApplication: HTTPResponder {
    public let routes: RouteTable
    public let logger: Logger
    public let metrics: HTTPMetrics?
    let defaultBodyLimit: Int
    let accessLog: Bool
    private let chain: HTTPHandler
    let connectionErrorRenderer: ConnectionErrorRenderer?

    /// Renders the body of an error the connection layer answers itself (see
    /// `HTTPResponder.connectionErrorBody`); nil keeps the standard `{"error":{"code","message"}}`.
    public typealias ConnectionErrorRenderer = @Sendable (HTTPRequestHead?, HTTPStatus, String, String) -> [UInt8]?

    /// - Parameters:
    ///   - middleware: Applied outermost first, inside the built-in request-id/metrics/error layer.
    ///   - defaultBodyLimit: For routes that do not set their own.
    ///   - accessLog: One info line per request (off for benchmarks).
    ///   - connectionErrorRenderer: Body of the errors the connection layer answers by itself.
    public init(
        router: Router, middleware: [any HTTPMiddleware] = [], logger: Logger, metrics: HTTPMetrics? = nil,
        defaultBodyLimit: Int = 1 << 20, accessLog: Bool = true, connectionErrorRenderer: ConnectionErrorRenderer? = nil
    ) {
        self.connectionErrorRenderer = connectionErrorRenderer
        let routes = router.freeze()
        self.routes = routes
        self.logger = logger
        self.metrics = metrics
        self.defaultBodyLimit = defaultBodyLimit
        self.accessLog = accessLog
        var handler: HTTPHandler = { request, context in
            switch routes.match(method: request.method, path: request.path) {
            case .found(let route, let parameters):
                var context = context
                context.parameters = parameters
                return try await route.handler(request, context)
            case .methodNotAllowed(let allowed):
                let list = allowed.map(\.rawValue).joined(separator: ", ")
                throw HTTPError(
                    .methodNotAllowed, code: "method_not_allowed",
                    message: "\(request.method) is not allowed here; use \(list).", headers: ["Allow": list])
            case .notFound:
                throw HTTPError(.notFound, code: "not_found", message: "No route for \(request.method) \(request.path).")
            }
        }
        for m in middleware.reversed() {
            let next = handler
            handler = { request, context in try await m.handle(request, context: context, next: next) }
        }
        chain = handler
    }

    public func bodyLimit(for head: HTTPRequestHead) -> Int {
        if case .found(let route, _) = routes.match(method: head.method, path: head.path) {
            return route.bodyLimit ?? defaultBodyLimit
        }
        return defaultBodyLimit
    }

    public func connectionErrorBody(for head: HTTPRequestHead?, status: HTTPStatus, code: String, message: String) -> [UInt8] {
        connectionErrorRenderer?(head, status, code, message) ?? JSONText.errorBody(code: code, message: message)
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let start = ContinuousClock.now
        let trace = request.headers.first("traceparent").flatMap { TraceContext(traceparent: $0) }?.child() ?? TraceContext.random()
        let requestID = request.headers.first("x-request-id").flatMap(Self.validRequestID) ?? trace.spanID
        let routePattern: String
        if case .found(let route, _) = routes.match(method: request.method, path: request.path) {
            routePattern = route.pattern
        } else {
            routePattern = "unmatched"
        }
        let context = RequestContext(
            requestID: requestID, trace: trace, logger: logger.with(requestID: requestID).with(trace: trace), route: routePattern)
        var response: HTTPResponse
        do {
            response = try await chain(request, context)
        } catch let error as HTTPError {
            response = error.response
        } catch is CancellationError {
            response = HTTPError(.serviceUnavailable, code: "cancelled", message: "The request was cancelled.").response
        } catch {
            context.logger.error("unhandled error", ["error": .string(String(describing: error)), "route": .string(routePattern)])
            response = HTTPError(.internalServerError, code: "internal_error", message: "An internal error occurred (request \(requestID)).").response
        }
        response.headers.add(name: "X-Request-Id", value: requestID)
        let elapsed = ContinuousClock.now - start
        metrics?.observe(method: request.method, route: routePattern, status: response.status.code, duration: elapsed)
        if accessLog {
            let c = elapsed.components
            let ms = Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15
            context.logger.info(
                "request",
                [
                    "method": .string(request.method.rawValue), "path": .string(String(request.path)),
                    "route": .string(routePattern), "status": .int(response.status.code),
                    "duration_ms": .double((ms * 1000).rounded() / 1000), "remote": .string(request.remoteAddress),
                ])
        }
        return response
    }

    /// Accepts a client's request id only when it is short and plain.
    static func validRequestID(_ value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= 128 else { return nil }
        for b in value.utf8 {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
            if !ok { return nil }
        }
        return value
    }
}
