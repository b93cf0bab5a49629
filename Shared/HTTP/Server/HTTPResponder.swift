/// What a server calls for each request. `HTTPApplication` (router plus middleware) is the usual one.
public protocol HTTPResponder: Sendable {
    /// The largest body accepted for a request with this head; asked before the body is read,
    /// so an oversized `Content-Length` gets 413 at once and `Expect: 100-continue` is honest.
    func bodyLimit(for head: HTTPRequestHead) -> Int
    /// Produces the response; errors are the responder's to map (the server answers 500 otherwise).
    func respond(to request: HTTPRequest) async -> HTTPResponse
}
