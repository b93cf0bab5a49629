/// An error that knows its HTTP status and renders as `{"error":{"code","message"}}`.
///
/// ```swift
/// throw HTTPError(.notFound, code: "job_not_found", message: "No job with id \(id).")
/// ```
public struct HTTPError: Error, Sendable, CustomStringConvertible {
    public var status: HTTPStatus
    /// Stable, machine-readable snake_case code.
    public var code: String
    public var message: String
    /// Extra headers to send (`Retry-After`, `Allow`, `WWW-Authenticate`).
    public var headers: HTTPHeaders

    public init(_ status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// The JSON response for this error.
    public var response: HTTPResponse {
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "application/json")
        return HTTPResponse(status: status, headers: h, body: .bytes(JSONText.errorBody(code: code, message: message)))
    }

    public static func notFound(_ message: String = "No such resource.") -> HTTPError {
        HTTPError(.notFound, code: "not_found", message: message)
    }
    public static func badRequest(_ message: String, code: String = "bad_request") -> HTTPError {
        HTTPError(.badRequest, code: code, message: message)
    }
    public static func unauthorized(_ message: String = "Authentication required.") -> HTTPError {
        HTTPError(.unauthorized, code: "unauthorized", message: message, headers: ["WWW-Authenticate": "Bearer"])
    }
    public static func forbidden(_ message: String = "Not allowed.") -> HTTPError {
        HTTPError(.forbidden, code: "forbidden", message: message)
    }
}
