import BulkheadHTTP
import Foundation

/// Makes every error under `/v1/` come out in OpenAI's shape
/// `{"error":{"message","type","param","code"}}`: `GatewayError`s thrown anywhere inside, and the
/// runtime's own errors (unknown route 404, 405, `HTTPError`s) whose Bulkhead body
/// `{"error":{"code","message"}}` is kept as a subset (same `code` and `message`, plus `type`
/// from the status and `param: null`). Outermost of the gateway's middleware.
struct OpenAIErrorShapeMiddleware: HTTPMiddleware {
    let prefix = "/v1/"

    func handle(_ request: HTTPRequest, context: RequestContext, next: HTTPHandler) async throws -> HTTPResponse {
        guard request.path.hasPrefix(prefix) else { return try await next(request, context) }
        let response: HTTPResponse
        do {
            response = try await next(request, context)
        } catch let error as GatewayError {
            return error.response
        } catch let error as HTTPError {
            var converted = GatewayError(
                status: error.status, message: error.message, type: Self.type(for: error.status.code), code: error.code).response
            for (name, value) in error.headers where name.lowercased() != "content-type" {
                converted.headers.add(name: name, value: value)
            }
            return converted
        }
        return Self.rewrite(response)
    }

    /// OpenAI's `type` for a status.
    static func type(for status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "invalid_request_error"
        case 429: "rate_limit_error"
        case 400..<500: "invalid_request_error"
        default: "api_error"
        }
    }

    /// A returned (not thrown) Bulkhead-shaped error body, rewritten; anything else unchanged.
    static func rewrite(_ response: HTTPResponse) -> HTTPResponse {
        guard response.status.code >= 400, case .bytes(let bytes) = response.body, bytes.count < 64 * 1024,
              let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let error = object["error"] as? [String: Any], error["type"] == nil,
              let code = error["code"] as? String, let message = error["message"] as? String
        else { return response }
        var converted = GatewayError(status: response.status, message: message, type: type(for: response.status.code), code: code).response
        for (name, value) in response.headers where name.lowercased() != "content-type" && name.lowercased() != "content-length" {
            converted.headers.add(name: name, value: value)
        }
        return converted
    }
}
