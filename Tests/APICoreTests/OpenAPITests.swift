import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
import BulkheadTesting
import InferenceGateway
import Foundation
import Shared
import Testing

/// Real responses of a running api-core, for every route (success and error shapes), validated
/// against the committed OpenAPI 3.1 document by `Services/api-core/scripts/openapi_check.py`
/// (JSON Schema 2020-12 with `jsonschema`). A tampered copy of the same responses must fail.
@Suite("api-core OpenAPI document")
struct OpenAPITests {
    static let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let python = repoRoot + "/.venv/bin/python"
    static let checker = repoRoot + "/Services/api-core/scripts/openapi_check.py"
    static let document = repoRoot + "/Services/api-core/openapi.json"

    /// Runs the checker on `replies`; returns its exit status and output.
    static func check(_ replies: [APIStack.Reply], recorder: Recorder) async throws -> (Int32, String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-responses-\(UUID().uuidString).json").path
        try recorder.json(replies).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try await TestProcess.run(python, [checker, document, file])
        return (result.status, result.output)
    }

    @Test func theServedDocumentIsTheCommittedOne() async throws {
        try await withStack { s in
            let served = try await s.call(.get, "/openapi.json")
            #expect(served.status == 200 && served.header("content-type") == "application/json")
            let committed = try String(contentsOfFile: Self.document, encoding: .utf8)
            #expect(served.text == committed.trimmingCharacters(in: .newlines), "run Services/api-core/scripts/embed-openapi")
            #expect(served.json["openapi"]?.stringValue == "3.1.0")
            for path in ["/v1/jobs", "/v1/jobs/{id}/events", "/v1/stream", "/v1/usage", "/v1/chat/completions", "/v1/embeddings", "/v1/models"] {
                #expect(served.json["paths"]?[path] != nil, "\(path) documented")
            }
        }
    }

    @Test func everyReferenceInTheDocumentResolves() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "no \(Self.python): run scripts/setup (pip install -r requirements-dev.txt)")
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-none-\(UUID().uuidString).json").path
        try Data("[]".utf8).write(to: URL(fileURLWithPath: empty))
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let good = try await TestProcess.run(Self.python, [Self.checker, Self.document, empty])
        #expect(good.status == 0, "\(good.output)")
        // Shared responses are referenced, so a dangling reference must fail the check.
        let committed = try String(contentsOfFile: Self.document, encoding: .utf8)
        #expect(committed.contains("\"#/components/responses/Unauthorized\""))
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-broken-\(UUID().uuidString).json").path
        try Data(committed.replacingOccurrences(of: "#/components/responses/Unauthorized\"", with: "#/components/responses/Nope\"").utf8)
            .write(to: URL(fileURLWithPath: broken))
        defer { try? FileManager.default.removeItem(atPath: broken) }
        let bad = try await TestProcess.run(Self.python, [Self.checker, broken, empty])
        #expect(bad.status == 1 && bad.output.contains("$ref #/components/responses/Nope names nothing"), "\(bad.output)")
    }

    @Test func realResponsesMatchTheDocumentAndDivergenceIsCaught() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.python), "no \(Self.python): run scripts/setup (pip install -r requirements-dev.txt)")
        try await withStack { s in
            let a = try await s.signup()
            // Settings: every status.
            _ = try await s.call(.get, "/v1/me/settings", bearer: a.access)
            _ = try await s.call(.put, "/v1/me/settings", json: ["theme": "dark"], bearer: a.access)
            _ = try await s.call(.patch, "/v1/me/settings", json: ["lang": "fr"], bearer: a.access, headers: ["If-Match": "\"1\""])
            _ = try await s.call(.put, "/v1/me/settings", json: ["x": 1], bearer: a.access, headers: ["If-Match": "\"1\""])
            _ = try await s.call(.put, "/v1/me/settings", json: [1], bearer: a.access)
            _ = try await s.call(.put, "/v1/me/settings", json: ["b": String(repeating: "x", count: 17_000)], bearer: a.access)
            _ = try await s.call(.put, "/v1/me/settings", raw: Array("nope".utf8), bearer: a.access)
            _ = try await s.call(.get, "/v1/me/settings")
            _ = try await s.call(.get, "/v1/tenant/settings", bearer: a.access)
            _ = try await s.call(.patch, "/v1/tenant/settings", json: ["brand": "x"], bearer: a.access)
            let key = try await s.call(.post, "/v1/api-keys", json: ["name": "k", "scopes": ["jobs:read", "settings:read"]], bearer: a.access, base: s.authBase)
            let apiKey = try #require(key.json["key"]?.stringValue)
            _ = try await s.call(.get, "/v1/me/settings", bearer: apiKey)
            _ = try await s.call(.post, "/v1/jobs", json: APIStack.chatJob, bearer: apiKey)

            // Jobs.
            let accepted = try await s.submit(a, key: "k1")
            _ = try await s.submit(a, key: "k1")
            var other = APIStack.chatJob
            other["model"] = "else"
            _ = try await s.submit(a, other, key: "k1")
            _ = try await s.submit(a, ["kind": "chat"])
            _ = try await s.call(.post, "/v1/jobs", raw: Array("[".utf8), bearer: a.access)
            _ = try await s.submit(a, ["kind": "chat", "model": "m", "input": ["messages": [["role": "user", "content": String(repeating: "x", count: 300_000)]]]])
            _ = try await s.call(.post, "/v1/jobs", json: APIStack.chatJob)
            let id = try #require(accepted.json["id"]?.stringValue)
            let second = try await s.submitted(a)
            _ = try await s.call(.get, "/v1/jobs?limit=1", bearer: a.access)
            _ = try await s.call(.get, "/v1/jobs?limit=1000", bearer: a.access)
            _ = try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access)
            _ = try await s.call(.get, "/v1/jobs/job_0", bearer: a.access)

            // Run the first job as a worker would; cancel the second (queued), then once more (finished).
            let (m1, _) = try await s.receiveJob()
            let (m2, _) = try await s.receiveJob()
            let message = m1.jobID == id ? m1 : m2
            try await s.completeJob(message)
            _ = try await s.events(a, id)
            _ = try await s.events(a, "job_0")
            _ = try await s.call(.get, "/v1/jobs/\(id)/events?after=-1", bearer: a.access)
            try await eventually("completed") { try await s.call(.get, "/v1/jobs/\(id)", bearer: a.access).json["status"]?.stringValue == "completed" }
            _ = try await s.call(.post, "/v1/jobs/\(second)/cancel", bearer: a.access)
            _ = try await s.call(.post, "/v1/jobs/\(second)/cancel", bearer: a.access)
            let running = try await s.submitted(a)
            try await s.sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: a.tenant, data: AIJobEventData(jobID: running, status: .running, worker: "w")))
            try await eventually("running") { try await s.call(.get, "/v1/jobs/\(running)", bearer: a.access).json["status"]?.stringValue == "running" }
            _ = try await s.call(.post, "/v1/jobs/\(running)/cancel", bearer: a.access)
            _ = try await s.call(.get, "/v1/jobs", bearer: a.access)

            // Plan limit.
            let free = try await s.signup(plan: "free")
            _ = try await s.submitted(free)
            _ = try await s.submit(free)

            // WebSocket server messages.
            let ws = try TestWebSocketClient(port: s.api.port, path: "/v1/stream?access_token=\(a.access)")
            try ws.send(text: #"{"type":"subscribe","job_id":"\#(id)"}"#)
            try ws.send(text: #"{"type":"subscribe","job_id":"job_0"}"#)
            var wsMessages: [String] = []
            while wsMessages.count < 7, let frame = try ws.receiveFrame(timeout: .seconds(5)) {
                if frame.opcode == .text { wsMessages.append(String(decoding: frame.payload, as: UTF8.self)) }
            }
            #expect(wsMessages.count == 7)
            s.recorder.record(method: "GET", path: "/v1/stream", status: 101, contentType: "websocket", messages: wsMessages)

            // Usage.
            try await eventually("usage") { try await s.call(.get, "/v1/usage?group_by=model", bearer: a.access).json["totals"]?["requests"]?.doubleValue == 1 }
            _ = try await s.call(.get, "/v1/usage?group_by=day", bearer: a.access)
            _ = try await s.call(.get, "/v1/usage?from=bad", bearer: a.access)
            _ = try await s.call(.get, "/openapi.json")

            // The public API only (health, readiness and metrics are operational routes).
            let replies = s.recorder.all.filter { $0.path.hasPrefix("/v1/") || $0.path == "/openapi.json" }
            let statuses = Set(replies.map { "\($0.method) \($0.status)" })
            for expected in ["POST 202", "POST 200", "POST 409", "POST 422", "POST 400", "POST 413", "POST 401", "POST 429", "POST 403", "GET 404", "PUT 412", "GET 101"] {
                #expect(statuses.contains(expected), "no \(expected) response was exercised")
            }
            let (status, output) = try await Self.check(replies, recorder: s.recorder)
            #expect(status == 0, "responses diverge from openapi.json:\n\(output)")
            #expect(output.contains("checked \(replies.count) responses") && replies.count > 40, "\(output)")

            // Negative check: the same checker must catch a diverging response.
            func tampered(_ reply: APIStack.Reply, status: Int? = nil, _ edit: (inout [String: JSONValue]) -> Void) -> APIStack.Reply {
                var r = reply
                if case .object(var o) = r.json {
                    edit(&o)
                    r.body = Array(JSONInput.text(.object(o)).utf8)
                }
                if let status { r.status = status }
                return r
            }
            let job = try #require(replies.first { $0.method == "GET" && $0.path == "/v1/jobs/\(id)" && $0.status == 200 })
            let bad = [
                tampered(accepted) { $0["status"] = .string("sleeping") },
                tampered(job) { $0["surprise"] = .bool(true) },
                tampered(job, status: 418) { _ in },
            ]
            let (badStatus, badOutput) = try await Self.check(bad, recorder: s.recorder)
            #expect(badStatus == 1)
            #expect(badOutput.contains("status: 'sleeping' is not one of"), "\(badOutput)")
            #expect(badOutput.contains("'surprise' was unexpected"), "\(badOutput)")
            #expect(badOutput.contains("status 418 not documented"), "\(badOutput)")
        }
    }
}

/// Canonical JSON text for tampering with recorded bodies.
enum JSONInput {
    static func text(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
    }
}

/// The gateway's public routes in the same document: real answers of an in-process
/// inference-gateway (API mode, built-in simulator catalog, no auth) checked the same way.
@Suite("OpenAPI document: gateway routes")
struct GatewayOpenAPITests {
    @Test func gatewayResponsesMatchTheDocument() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: OpenAPITests.python), "no \(OpenAPITests.python)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-gw-openapi-\(UUID().uuidString)").path
        let host = try await ServiceHost.start(InferenceGatewayService.self, environment: Environment([
            "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": directory, "LOOP_THREADS": "1", "LOG_LEVEL": "error", "ACCESS_LOG": "false",
            "GATEWAY_MODE": "api",
        ]))
        let client = try HTTPClient()
        let recorder = Recorder()
        do {
            let base = "http://127.0.0.1:\(host.port)"
            func call(_ method: HTTPMethod, _ path: String, json: Any? = nil) async throws -> APIStack.Reply {
                var request = HTTPClientRequest(method: method, url: base + path)
                if let json {
                    request.body = Array(try JSONSerialization.data(withJSONObject: json))
                    request.headers.add(name: "Content-Type", value: "application/json")
                }
                let response = try await client.execute(request, timeout: .seconds(15))
                let body = try await response.body.collect(upTo: 8 << 20)
                let reply = APIStack.Reply(method: method.rawValue, path: path, status: response.status.code, headers: response.headers, body: body)
                if reply.header("content-type")?.hasPrefix("text/event-stream") == true {
                    // One checked message per chunk (the final `[DONE]` is not JSON).
                    var parser = ServerSentEventParser()
                    let chunks = try parser.parse(body).map(\.data).filter { $0 != "[DONE]" }
                    #expect(!chunks.isEmpty)
                    recorder.record(method: reply.method, path: path, status: reply.status, contentType: "text/event-stream", messages: chunks)
                } else {
                    recorder.record(reply)
                }
                return reply
            }
            let messages = [["role": "user", "content": "Hello there"]]
            #expect(try await call(.get, "/v1/models").status == 200)
            #expect(try await call(.post, "/v1/chat/completions", json: ["model": "simulator-fast", "messages": messages]).status == 200)
            #expect(try await call(.post, "/v1/chat/completions", json: [
                "model": "simulator-fast", "messages": messages, "stream": true, "stream_options": ["include_usage": true],
            ]).status == 200)
            #expect(try await call(.post, "/v1/chat/completions", json: ["model": "no-such-model", "messages": messages]).status == 404)
            #expect(try await call(.post, "/v1/chat/completions", json: ["model": "simulator-fast"]).status == 400)
            #expect(try await call(.post, "/v1/embeddings", json: ["model": "no-such-model", "input": "x"]).status == 404)
            let (status, output) = try await OpenAPITests.check(recorder.all, recorder: recorder)
            #expect(status == 0, "gateway responses diverge from openapi.json:\n\(output)")
            #expect(output.contains("checked 6 responses") && !output.contains(" 0 bodies"), "\(output)")
        } catch {
            Issue.record("\(error)")
        }
        await client.shutdown()
        await host.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
