import BulkheadObservability
import Shared

/// Per-request values that travel with a request through middleware to its handler.
public struct RequestContext: Sendable {
    /// `X-Request-Id` from the client when valid, otherwise generated.
    public var requestID: String
    /// W3C trace context: the caller's trace continued with a new span for this request.
    public var trace: TraceContext
    /// A logger carrying the request id and trace id.
    public var logger: Logger
    /// Path parameters of the matched route (`/v1/jobs/{id}` → `["id": "..."]`).
    public var parameters: [String: String]
    /// The matched route pattern (for metrics labels); "unmatched" for 404s.
    public var route: String
    /// Who made the request, once an authentication middleware has decided.
    public var principal: Principal?

    public init(requestID: String, trace: TraceContext, logger: Logger, parameters: [String: String] = [:], route: String = "unmatched", principal: Principal? = nil) {
        self.requestID = requestID
        self.trace = trace
        self.logger = logger
        self.parameters = parameters
        self.route = route
        self.principal = principal
    }

    /// A path parameter, or a 400 error naming it.
    public func parameter(_ name: String) throws(HTTPError) -> String {
        guard let v = parameters[name] else {
            throw HTTPError(.badRequest, code: "missing_parameter", message: "Missing path parameter '\(name)'.")
        }
        return v
    }
}
