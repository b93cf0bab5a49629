import BulkheadHTTP
import BulkheadTesting
import Synchronization
import Testing

/// The server over real loopback sockets: keep-alive, pipelining, limits, timeouts.
@Suite("HTTP server")
struct ServerTests {
    static func router() -> Router {
        var r = Router()
        r.get("/hello") { _, _ in .text("hello") }
        r.post("/echo", bodyLimit: 64) { request, _ in
            HTTPResponse(contentType: "application/octet-stream", body: request.body)
        }
        r.get("/slow/{ms}") { _, context in
            let ms = Int(try context.parameter("ms")) ?? 0
            try await Task.sleep(for: .milliseconds(ms))
            return .text("slept \(ms)")
        }
        r.get("/items/{id}") { _, context in .text("item \(try context.parameter("id"))") }
        r.delete("/items/{id}") { _, _ in HTTPResponse(status: .noContent) }
        r.get("/files/{rest...}") { _, context in .text("file \(try context.parameter("rest"))") }
        r.get("/fail") { _, _ in throw HTTPError(.conflict, code: "already_done", message: "It was done.") }
        r.get("/crash") { _, _ in throw TestError("secret internal detail") }
        return r
    }

    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            for _ in 0..<3 {
                try c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
                let r = try c.readResponse()
                #expect(r.status == 200)
                #expect(r.text == "hello")
                #expect(r.header("connection") == nil)
                #expect(r.header("x-request-id") != nil)
                #expect(r.header("date") != nil)
            }
            #expect(server.openConnections == 1)
        }
    }

    @Test func http10ClosesUnlessKeepAliveAsked() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /hello HTTP/1.0\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 200)
            #expect(r.head.version == .http1_0)
            #expect(try c.waitForClose())

            let k = try RawConnection(port: server.port)
            try k.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try k.readResponse().header("connection")?.lowercased() == "keep-alive")
            try k.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            #expect(try k.readResponse().status == 200)
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.header("connection") == "close")
            #expect(try c.waitForClose())
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            // The first is the slowest: answers must still come back in request order.
            try c.send(
                "GET /slow/150 HTTP/1.1\r\nHost: x\r\n\r\nGET /items/2 HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + "GET /slow/1 HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse().text == "slept 150")
            #expect(try c.readResponse().text == "item 2")
            #expect(try c.readResponse().text == "abc")
            #expect(try c.readResponse().text == "slept 1")
        }
    }

    @Test func chunkedRequestBodyWithTrailers() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            try c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Sum: 1\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 200)
            #expect(r.text == "abcde")
        }
    }

    @Test func routerAnswers404And405AsJSON() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
            let notFound = try c.readResponse()
            #expect(notFound.status == 404)
            #expect(notFound.errorCode == "not_found")
            #expect(notFound.header("content-type") == "application/json")
            try c.send("POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            let notAllowed = try c.readResponse()
            #expect(notAllowed.status == 405)
            #expect(notAllowed.header("allow") == "DELETE, GET, HEAD")
            try c.send("GET /files/a/b/c.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse().text == "file a/b/c.txt")
            try c.send("GET /items/a%20b HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse().text == "item a b")
            c.expectHEAD()
            try c.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try c.readResponse()
            #expect(head.status == 200 && head.body.isEmpty && head.header("content-length") == "5")
        }
    }

    @Test func handlerErrorsBecomeJSONWithoutLeakingDetails() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /fail HTTP/1.1\r\nHost: x\r\n\r\n")
            let conflict = try c.readResponse()
            #expect(conflict.status == 409)
            #expect(conflict.errorCode == "already_done")
            try c.send("GET /crash HTTP/1.1\r\nHost: x\r\n\r\n")
            let crash = try c.readResponse()
            #expect(crash.status == 500)
            #expect(crash.errorCode == "internal_error")
            #expect(!crash.text.contains("secret"))
        }
    }

    @Test func oversizedHeaderSectionGets431() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            let big = String(repeating: "a", count: 17 * 1024)
            try c.send("GET /hello HTTP/1.1\r\nHost: x\r\nX-Big: \(big)\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 431)
            #expect(r.errorCode == "headers_too_large")
            #expect(try c.waitForClose())
        }
    }

    @Test func bodyOverTheRouteLimitGets413() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            try c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 65\r\n\r\n")
            let r = try c.readResponse()
            #expect(r.status == 413)
            #expect(r.errorCode == "body_too_large")

            let chunked = try RawConnection(port: server.port)
            let piece = String(repeating: "z", count: 40)
            try chunked.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n28\r\n\(piece)\r\n28\r\n\(piece)\r\n0\r\n\r\n")
            let r2 = try chunked.readResponse()
            #expect(r2.status == 413)
        }
    }

    @Test func malformedAndUnsupportedRequests() async throws {
        try await withTestServer(Self.router()) { server in
            let cases: [(String, Int)] = [
                ("GET /hello HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400),
                ("GARBAGE\r\n\r\n", 400),
                ("GET /hello HTTP/1.1\r\n\r\n", 400),  // no Host
                ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
                ("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
                ("GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 505),
                ("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\nContent-Length: 1\r\n\r\n", 417),
            ]
            for (request, status) in cases {
                let c = try RawConnection(port: server.port)
                try c.send(request)
                let r = try c.readResponse()
                #expect(r.status == status, "\(request.debugDescription)")
                #expect(r.errorCode != nil)
                #expect(try c.waitForClose())
            }
        }
    }

    @Test func expectContinueGetsInterimResponse() async throws {
        try await withTestServer(Self.router()) { server in
            let c = try RawConnection(port: server.port)
            try c.send("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            let interim = try c.readResponse(informational: true)
            #expect(interim.status == 100)
            try c.send("data")
            let r = try c.readResponse()
            #expect(r.status == 200 && r.text == "data")
        }
    }

    @Test func slowHeadersGet408AndClose() async throws {
        try await withTestServer(Self.router(), configure: { $0.headerTimeout = .milliseconds(300) }) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /hello HTTP/1.1\r\nHost: x\r\n")  // never finishes the head
            try await Task.sleep(for: .milliseconds(100))
            try c.send("X-Drip: 1\r\n")
            let r = try c.readResponse(timeout: .seconds(3))
            #expect(r.status == 408)
            #expect(r.errorCode == "header_timeout")
            #expect(try c.waitForClose())
        }
    }

    @Test func slowBodyGets408() async throws {
        try await withTestServer(Self.router(), configure: { $0.bodyTimeout = .milliseconds(300) }) { server in
            let c = try RawConnection(port: server.port)
            try c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
            let r = try c.readResponse(timeout: .seconds(3))
            #expect(r.status == 408)
            #expect(r.errorCode == "body_timeout")
            #expect(try c.waitForClose())
        }
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        try await withTestServer(Self.router(), configure: { $0.idleTimeout = .milliseconds(300) }) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try c.readResponse().status == 200)
            #expect(try c.waitForClose(timeout: .seconds(3)))
            #expect(server.openConnections == 0)
        }
    }

    @Test func connectionCapAnswers503() async throws {
        try await withTestServer(Self.router(), configure: { $0.maxConnections = 2 }) { server in
            let a = try RawConnection(port: server.port)
            let b = try RawConnection(port: server.port)
            try a.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            try b.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try a.readResponse().status == 200)
            #expect(try b.readResponse().status == 200)
            let c = try RawConnection(port: server.port)
            let r = try c.readResponse()
            #expect(r.status == 503)
            #expect(r.errorCode == "server_busy")
            #expect(r.header("retry-after") == "1")
            // Existing connections keep working.
            try a.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(try a.readResponse().status == 200)
        }
    }

    @Test func gracefulShutdownFinishesInFlightRequests() async throws {
        var config = HTTPServerConfiguration()
        config.port = 0
        config.loopCount = 2
        let app = HTTPApplication(router: Self.router(), logger: .init(service: "t", minimumLevel: .error), accessLog: false)
        let server = try HTTPServer(configuration: config, responder: app)
        try server.start()
        let busy = try RawConnection(port: server.port)
        let idle = try RawConnection(port: server.port)
        try idle.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try idle.readResponse().status == 200)
        while server.requestsInFlight > 0 { try await Task.sleep(for: .milliseconds(5)) }
        try busy.send("GET /slow/1500 HTTP/1.1\r\nHost: x\r\n\r\n")
        while server.requestsInFlight == 0 { try await Task.sleep(for: .milliseconds(5)) }
        let shutdown = Task { await server.shutdown(gracePeriod: .seconds(5)) }
        while !server.isShuttingDown { try await Task.sleep(for: .milliseconds(5)) }
        // The idle connection is closed at once; the busy one gets its answer, marked last.
        #expect(try idle.waitForClose(timeout: .seconds(2)))
        let r = try busy.readResponse(timeout: .seconds(3))
        #expect(r.status == 200 && r.text == "slept 1500")
        #expect(r.header("connection") == "close", "\(r.head.headers)")
        await shutdown.value
        #expect(throws: (any Error).self) { try RawConnection(port: server.port) }
    }

    @Test func clientDisconnectCancelsTheHandler() async throws {
        let cancelled = Mutex(false)
        var r = Router()
        r.get("/wait") { _, _ in
            do {
                try await Task.sleep(for: .seconds(10))
            } catch {
                cancelled.withLock { $0 = true }
                throw error
            }
            return .text("late")
        }
        try await withTestServer(r) { server in
            let c = try RawConnection(port: server.port)
            try c.send("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n")
            try await Task.sleep(for: .milliseconds(100))
            #expect(server.requestsInFlight == 1)
            c.shutdownWrite()
            let deadline = ContinuousClock.now + .seconds(3)
            while server.requestsInFlight > 0 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(server.requestsInFlight == 0)
        }
        #expect(cancelled.withLock { $0 })
    }
}
