import BulkheadHTTP
import Foundation

/// An error of the gateway's OpenAI routes and pipeline, rendered in OpenAI's shape
/// `{"error":{"message","type","param","code"}}` with its status and headers.
public struct GatewayError: Error, Sendable {
    public var status: HTTPStatus
    public var message: String
    /// OpenAI `type`: `invalid_request_error`, `authentication_error`, `rate_limit_error`, `api_error`...
    public var type: String
    public var param: String?
    public var code: String?
    public var headers: [(String, String)]
    /// Whether running the same call again later may succeed (a job worker nacks these).
    public var retryable: Bool

    public init(
        status: HTTPStatus, message: String, type: String, param: String? = nil, code: String? = nil,
        headers: [(String, String)] = [], retryable: Bool = false
    ) {
        self.status = status; self.message = message; self.type = type; self.param = param; self.code = code
        self.headers = headers; self.retryable = retryable
    }

    public static func invalid(_ message: String, param: String?, code: String? = nil) -> GatewayError {
        GatewayError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// 429 for a tenant limit: `limit` names it (`requests_per_minute`, `tokens_per_minute`,
    /// `cost_per_minute`, `daily_budget`, `concurrent_requests`).
    public static func rateLimited(limit: String, message: String, retryAfterSeconds: Int, headers: [(String, String)] = []) -> GatewayError {
        GatewayError(
            status: .tooManyRequests, message: message, type: "rate_limit_error", param: nil, code: limit,
            headers: [("Retry-After", String(max(1, retryAfterSeconds)))] + headers, retryable: true)
    }

    public var response: HTTPResponse {
        OpenAIError(status: status, message: message, type: type, param: param, code: code).response.adding(headers)
    }

    /// The JSON body alone.
    var bodyBytes: [UInt8] {
        if case .bytes(let bytes) = response.body { return bytes }
        return []
    }
}

extension HTTPResponse {
    func adding(_ extra: [(String, String)]) -> HTTPResponse {
        var copy = self
        for (name, value) in extra { copy.headers.add(name: name, value: value) }
        return copy
    }
}
