/// What a server calls for each request. `HTTPApplication` (router plus middleware) is the usual one.
public protocol HTTPResponder: Sendable {
    /// The largest body accepted for a request with this head; asked before the body is read,
    /// so an oversized `Content-Length` gets 413 at once and `Expect: 100-continue` is honest.
    func bodyLimit(for head: HTTPRequestHead) -> Int
    /// Produces the response; errors are the responder's to map (the server answers 500 otherwise).
    func respond(to request: HTTPRequest) async -> HTTPResponse
    /// The JSON body of an error the connection layer answers by itself (malformed request,
    /// 413 before the body, 408, 431...): `head` is the request's when it was parsed. Lets a
    /// service keep one error shape on its routes (the gateway's OpenAI shape under `/v1/`).
    func connectionErrorBody(for head: HTTPRequestHead?, status: HTTPStatus, code: String, message: String) -> [UInt8]
}

extension HTTPResponder {
    public func connectionErrorBody(for head: HTTPRequestHead?, status: HTTPStatus, code: String, message: String) -> [UInt8] {
        JSONText.errorBody(code: code, message: message)
    }
}
