import BulkheadHTTP
import BulkheadTesting
import Shared
import Testing

/// The built-in middleware: authentication hook, CORS, ordering, metrics labels.
@Suite("Middleware")
struct MiddlewareTests {
    static func router() -> Router {
        var r = Router()
        r.get("/v1/me") { _, context in .text("hello \(context.principal?.subject ?? "nobody")") }
        r.get("/v1/public") { _, context in .text("public \(context.principal?.subject ?? "nobody")") }
        r.post("/v1/things") { _, _ in HTTPResponse(status: .created) }
        return r
    }

    static let auth = AuthenticationMiddleware(protectedPrefixes: ["/v1/"], publicPaths: ["/v1/public"]) { request in
        guard let value = request.headers.first("authorization") else { return nil }
        guard value == "Bearer good" else {
            throw HTTPError(.unauthorized, code: "invalid_token", message: "The token is not valid.")
        }
        return Principal(kind: .user, subject: "user_1", tenant: "t1")
    }

    @Test func authenticationHookGuardsProtectedRoutes() async throws {
        try await withTestServer(Self.router(), middleware: [Self.auth]) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /v1/me HTTP/1.1\r\nHost: x\r\n\r\n")
            let missing = try c.readResponse()
            #expect(missing.status == 401)
            #expect(missing.errorCode == "unauthorized")
            #expect(missing.header("www-authenticate") == "Bearer")
            try c.send("GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer bad\r\n\r\n")
            #expect(try c.readResponse().errorCode == "invalid_token")
            try c.send("GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n\r\n")
            #expect(try c.readResponse().text == "hello user_1")
            try c.send("GET /v1/public HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse().text == "public nobody")
            try c.send("GET /v1/public HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\n\r\n")
            #expect(try c.readResponse().text == "public user_1")
        }
    }

    @Test func corsAnswersPreflightsAndTagsAllowedOriginsOnly() async throws {
        let cors = CORSMiddleware(.init(allowedOrigins: ["https://app.example"]))
        try await withTestServer(Self.router(), middleware: [cors, Self.auth]) { server in
            let c = try RawConnection(port: server.port)
            try c.send(
                "OPTIONS /v1/things HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n\r\n")
            let preflight = try c.readResponse()
            #expect(preflight.status == 204)
            #expect(preflight.header("access-control-allow-origin") == "https://app.example")
            #expect(preflight.header("access-control-allow-methods")?.contains("POST") == true)
            #expect(preflight.header("access-control-allow-headers")?.contains("Authorization") == true)
            #expect(preflight.header("vary") == "Origin")

            // Errors carry the CORS headers too, so the browser can read them.
            try c.send("GET /v1/me HTTP/1.1\r\nHost: x\r\nOrigin: https://app.example\r\n\r\n")
            let denied = try c.readResponse()
            #expect(denied.status == 401)
            #expect(denied.header("access-control-allow-origin") == "https://app.example")

            try c.send("GET /v1/public HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n\r\n")
            let other = try c.readResponse()
            #expect(other.status == 200)
            #expect(other.header("access-control-allow-origin") == nil)
        }
    }

    @Test func middlewareRunsOutermostFirstAndCanRewriteResponses() async throws {
        let order = ClosureMiddleware { request, context, next in
            var response = try await next(request, context)
            response.headers.add(name: "X-Order", value: "outer")
            return response
        }
        let inner = ClosureMiddleware { request, context, next in
            var response = try await next(request, context)
            response.headers.add(name: "X-Order", value: "inner")
            return response
        }
        try await withTestServer(Self.router(), middleware: [order, inner]) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /v1/public HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse().head.headers.values("x-order") == ["inner", "outer"])
        }
    }
}
