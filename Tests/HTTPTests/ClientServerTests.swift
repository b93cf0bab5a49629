import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadTesting
import Synchronization
import Testing

/// Our client against our server, over loopback: pooling, streaming, SSE, trace propagation.
@Suite("Client against our server")
struct ClientServerTests {
    @Test func keepAlivePoolReusesOneConnectionForSequentialRequests() async throws {
        var r = Router()
        r.post("/echo", bodyLimit: 2 << 20) { request, _ in HTTPResponse(contentType: "application/octet-stream", body: request.body) }
        try await withTestServer(r) { server in
            let client = try HTTPClient()
            let url = "http://127.0.0.1:\(server.port)/echo"
            let big = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            for i in 0..<20 {
                let body = i == 10 ? big : Array("request \(i)".utf8)
                let response = try await client.execute(HTTPClientRequest(method: .post, url: url, body: body))
                #expect(response.status.code == 200)
                #expect(try await response.body.collect(upTo: 4 << 20) == body)
            }
            #expect(server.openConnections == 1)
            let stats = try await client.poolStatistics(for: url)
            #expect(stats.open == 1 && stats.idle == 1)
            await client.shutdown()
        }
    }

    @Test func concurrentRequestsSpreadOverSeveralConnections() async throws {
        var r = Router()
        r.get("/slow") { _, _ in
            try await Task.sleep(for: .milliseconds(100))
            return .text("ok")
        }
        try await withTestServer(r) { server in
            var config = HTTPClient.Configuration()
            config.maxConnectionsPerHost = 4
            let client = try HTTPClient(configuration: config)
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<12 {
                    group.addTask { try await client.get("http://127.0.0.1:\(server.port)/slow").status.code }
                }
                for try await status in group { #expect(status == 200) }
            }
            #expect(server.openConnections == 4)
            await client.shutdown()
        }
    }

    @Test func streamedResponseChunksArriveBeforeTheProducerFinishes() async throws {
        let gate = AsyncGate()
        var r = Router()
        r.get("/stream") { _, _ in
            .stream { writer in
                try await writer.write("part-1")
                await gate.wait()
                try await writer.write("part-2")
            }
        }
        try await withTestServer(r) { server in
            let client = try HTTPClient()
            let response = try await client.get("http://127.0.0.1:\(server.port)/stream")
            var iterator = response.body.makeAsyncIterator()
            let first = try await iterator.next()
            #expect(first.map { String(decoding: $0, as: UTF8.self) } == "part-1")
            gate.open()
            var rest: [UInt8] = []
            while let chunk = try await iterator.next() { rest += chunk }
            #expect(String(decoding: rest, as: UTF8.self) == "part-2")
            await client.shutdown()
        }
    }

    @Test func serverSentEventsRoundTrip() async throws {
        var r = Router()
        r.get("/events") { _, _ in
            .serverSentEvents(heartbeat: .milliseconds(20)) { sse in
                for i in 1...3 {
                    try await sse.send(id: String(i), event: "tick", data: "n=\(i)\nsecond line")
                    try await Task.sleep(for: .milliseconds(30))
                }
            }
        }
        try await withTestServer(r) { server in
            let client = try HTTPClient()
            let response = try await client.get("http://127.0.0.1:\(server.port)/events")
            var received: [ServerSentEvent] = []
            for try await event in response.body.serverSentEvents() { received.append(event) }
            #expect(received.map(\.id) == ["1", "2", "3"])
            #expect(received.allSatisfy { $0.event == "tick" })
            #expect(received.last?.data == "n=3\nsecond line")
            await client.shutdown()
        }
    }

    @Test func traceContextPropagatesAcrossTwoServices() async throws {
        let client = try HTTPClient()
        var downstream = Router()
        downstream.get("/who") { request, context in
            .text("\(request.headers.first("traceparent") ?? "-") \(context.trace.traceID)")
        }
        try await withTestServer(downstream) { b in
            var upstream = Router()
            upstream.get("/call") { _, context in
                // A handler calling another service passes its own span as the parent.
                let response = try await client.get("http://127.0.0.1:\(b.port)/who", traceparent: context.trace.traceparentValue)
                return .text(try await response.body.collectString(upTo: 4096) + " " + context.trace.spanID)
            }
            try await withTestServer(upstream) { a in
                let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
                let c = try RawConnection(port: a.port)
                try c.send("GET /call HTTP/1.1\r\nHost: x\r\ntraceparent: 00-\(traceID)-00f067aa0ba902b7-01\r\n\r\n")
                let parts = try c.readResponse().text.split(separator: " ").map(String.init)
                #expect(parts.count == 3)
                // B saw A's span as its parent, and B continued the same trace.
                #expect(parts[0].hasPrefix("00-\(traceID)-"))
                #expect(parts[0].split(separator: "-")[2] == parts[2])
                #expect(parts[1] == traceID)
            }
        }
        await client.shutdown()
    }
}
