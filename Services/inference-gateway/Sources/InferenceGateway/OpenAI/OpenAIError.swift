import BulkheadHTTP
import Foundation

/// An error rendered in OpenAI's shape: `{"error":{"message","type","param","code"}}`,
/// so OpenAI client libraries surface it as they would OpenAI's own.
struct OpenAIError: Error, Sendable {
    var status: HTTPStatus
    var message: String
    var type: String
    var param: String?
    var code: String?

    static func invalid(_ message: String, param: String?, code: String? = nil) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    var response: HTTPResponse {
        struct Body: Encodable {
            struct Inner: Encodable {
                var message: String
                var type: String
                var param: String?
                var code: String?
                func encode(to encoder: any Encoder) throws {
                    // OpenAI sends explicit nulls for absent param/code.
                    var c = encoder.container(keyedBy: CodingKeys.self)
                    try c.encode(message, forKey: .message)
                    try c.encode(type, forKey: .type)
                    try c.encode(param, forKey: .param)
                    try c.encode(code, forKey: .code)
                }
                enum CodingKeys: String, CodingKey { case message, type, param, code }
            }
            var error: Inner
        }
        let bytes = (try? JSONEncoder().encode(Body(error: .init(message: message, type: type, param: param, code: code)))) ?? Data()
        return .json(bytes: [UInt8](bytes), status: status)
    }
}

extension OpenAIError {
    /// The same error as the pipeline's `GatewayError`.
    var gatewayError: GatewayError { GatewayError(status: status, message: message, type: type, param: param, code: code) }
}
