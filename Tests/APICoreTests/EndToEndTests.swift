import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadTesting
import Foundation
import Shared
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The acceptance flow with real processes: auth, queue-broker, an inference-gateway worker on a
/// simulator model and api-core, each its own executable on a free port with its own data dir.
@Suite("api-core end to end (real processes)")
struct EndToEndTests {
    /// A simulator model slow enough to resume mid-stream and cancel while running, fast enough for a test.
    static let catalog = """
        {"models": [
          {"name": "sim-e2e", "kind": "chat",
           "deployments": [{"id": "simulator/e2e", "provider": "simulator", "context_window": 32768, "max_output_tokens": 1024,
                            "price": {"input": 1.0, "output": 4.0},
                            "simulator": {"ttft_ms": 20, "tokens_per_second": 60, "output_tokens": 30}}]},
          {"name": "sim-slow", "kind": "chat",
           "deployments": [{"id": "simulator/slow", "provider": "simulator", "context_window": 32768, "max_output_tokens": 4096,
                            "price": {"input": 1.0, "output": 4.0},
                            "simulator": {"ttft_ms": 20, "tokens_per_second": 20, "output_tokens": 2000}}]}
        ]}
        """

    final class Stack: @unchecked Sendable {
        // Safe because: processes are started once and only read afterwards.
        var processes: [(String, TestProcess)] = []
        var ports: [String: Int] = [:]
        let directory = NSTemporaryDirectory() + "bulkhead-e2e-\(UUID().uuidString)"
        let token = "e2e-\(UUID().uuidString)"
        let client: HTTPClient

        init() throws { client = try HTTPClient() }

        func start(_ name: String, _ extra: [String: String], arguments: [String] = []) throws {
            let path = TestBinaries.directory + "/" + name
            try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: build first (scripts/test does)")
            let port = TestBinaries.freePort()
            var env = [
                "HOST": "127.0.0.1", "PORT": String(port), "BULKHEAD_INTERNAL_TOKEN": token, "DATA_DIR": directory + "/" + name,
                "LOOP_THREADS": "1", "LOG_LEVEL": "warning", "ACCESS_LOG": "false", "PATH": "/usr/bin:/bin",
            ]
            for (k, v) in extra { env[k] = v }
            processes.append((name, try TestProcess(path: path, arguments: arguments, environment: env)))
            ports[name] = port
        }

        func call(_ method: HTTPMethod, _ service: String, _ path: String, json: Any? = nil, raw: [UInt8]? = nil, bearer: String? = nil,
                  headers: HTTPHeaders = HTTPHeaders()) async throws -> Reply {
            var request = HTTPClientRequest(method: method, url: url(service) + path, headers: headers)
            if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
            if let json { request.body = Array(try JSONSerialization.data(withJSONObject: json)) }
            if let raw { request.body = raw }
            if json != nil || raw != nil { request.headers.add(name: "Content-Type", value: "application/json") }
            let response = try await client.execute(request, timeout: .seconds(15))
            return Reply(status: response.status.code, headers: response.headers, body: try await response.body.collect(upTo: 8 << 20))
        }

        func url(_ name: String) -> String { "http://127.0.0.1:\(ports[name] ?? 0)" }

        func logs() -> String {
            processes.map { name, p in "--- \(name) (running: \(p.isRunning))\n" + String(p.output.suffix(3000)) }.joined(separator: "\n")
        }

        func stop() async {
            for (_, p) in processes.reversed() { p.signal(SIGTERM) }
            for (_, p) in processes { _ = await p.waitForExit(timeout: .seconds(10)) }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func signupToUsageWithARealWorker() async throws {
        let stack = try Stack()
        let client = stack.client
        do {
            try await run(stack, client)
        } catch {
            Issue.record("\(error)\n\(stack.logs())")
        }
        await client.shutdown()
        await stack.stop()
    }

    struct Reply {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body))) ?? .null }
        var errorCode: String? { json["error"]?["code"]?.stringValue }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    func run(_ stack: Stack, _ client: HTTPClient) async throws {
        try FileManager.default.createDirectory(atPath: stack.directory, withIntermediateDirectories: true)
        let catalogPath = stack.directory + "/catalog.json"
        try Self.catalog.write(toFile: catalogPath, atomically: true, encoding: .utf8)
        try stack.start("auth", ["AUTH_SCRYPT_LOG_N": "10"])
        try stack.start("queue-broker", ["QUEUE_SYNCHRONOUS": "normal"])
        try stack.start(
            "inference-gateway",
            ["GATEWAY_MODE": "worker", "AUTH_URL": stack.url("auth"), "QUEUE_BROKER_URL": stack.url("queue-broker"), "GATEWAY_CATALOG": catalogPath,
             "GATEWAY_WORKER_POLL_SECONDS": "2", "GATEWAY_WORKER_CONCURRENCY": "4"])
        try stack.start(
            "api-core", ["AUTH_URL": stack.url("auth"), "QUEUE_BROKER_URL": stack.url("queue-broker"), "API_SSE_HEARTBEAT": "1s", "ACCESS_LOG": "true", "LOG_LEVEL": "info"])

        for name in ["auth", "queue-broker", "inference-gateway", "api-core"] {
            try await eventually("\(name) ready", timeout: .seconds(30)) { try await stack.call(.get, name, "/readyz").status == 200 }
        }
        try await eventually("api-core queues declared", timeout: .seconds(30)) {
            try await stack.call(.get, "api-core", "/metrics").text.contains("\napi_queues_declared 1")
        }

        // signup → login → save settings.
        let email = "e2e-\(UUID().uuidString.prefix(8))@example.com"
        let signup = try await stack.call(.post, "auth", "/v1/auth/signup", json: ["tenant_name": "E2E", "email": email, "password": "correct horse battery"])
        try #require(signup.status == 201, "\(signup.text)")
        let tenant = try #require(signup.json["tenant"]?["id"]?.stringValue)
        #expect(try await stack.call(.put, "auth", "/internal/tenants/\(tenant)/plan", json: ["plan": "enterprise"], bearer: stack.token).status == 200)
        let login = try await stack.call(.post, "auth", "/v1/auth/login", json: ["email": email, "password": "correct horse battery"])
        let token = try #require(login.json["access_token"]?.stringValue, "\(login.text)")
        let saved = try await stack.call(.put, "api-core", "/v1/me/settings", json: ["theme": "dark"], bearer: token)
        #expect(saved.status == 200 && saved.headers.first("etag") == "\"1\"")
        #expect(try await stack.call(.get, "api-core", "/v1/me/settings", bearer: token).json["theme"]?.stringValue == "dark")

        let job: [String: Any] = ["kind": "chat", "model": "sim-e2e", "input": ["messages": [["role": "user", "content": "Tell me a story"]]]]
        func submit(_ body: [String: Any] = job, key: String? = nil) async throws -> Reply {
            try await stack.call(.post, "api-core", "/v1/jobs", json: body, bearer: token, headers: key.map { ["Idempotency-Key": $0] } ?? [:])
        }

        // submit → SSE delivers deltas and the final result.
        let first = try await submit(key: "e2e-1")
        try #require(first.status == 202, "\(first.text)")
        let id = try #require(first.json["id"]?.stringValue)
        let events = try await sse(client, stack, token, id)
        let types = events.map(\.event)
        #expect(types.first == "status" && types.last == "completed", "\(types)")
        #expect(types.filter { $0 == "delta" }.count >= 2, "\(types)")
        let final = try JSONDecoder().decode(AIJobEventData.self, from: Data(try #require(events.last).data.utf8))
        let cost = try #require(final.costMicroUSD)
        #expect(cost > 0 && (final.usage?.completionTokens ?? 0) > 0 && final.result?["choices"] != nil)
        let text = events.filter { $0.event == "delta" }.compactMap { try? JSONDecoder().decode(AIJobEventData.self, from: Data($0.data.utf8)).content }.joined()
        #expect(!text.isEmpty)

        // The record and /v1/usage show the cost.
        try await eventually("job record completed") {
            try await stack.call(.get, "api-core", "/v1/jobs/\(id)", bearer: token).json["status"]?.stringValue == "completed"
        }
        let record = try await stack.call(.get, "api-core", "/v1/jobs/\(id)", bearer: token).json
        #expect(record["cost_micro_usd"]?.doubleValue == Double(cost) && record["timing"]?["first_token_at"]?.stringValue != nil)
        try await eventually("usage shows the cost") {
            try await stack.call(.get, "api-core", "/v1/usage?group_by=model", bearer: token).json["totals"]?["cost_micro_usd"]?.doubleValue == Double(cost)
        }

        // Idempotency: the same key and body return the same job.
        let again = try await submit(key: "e2e-1")
        #expect(again.status == 200 && again.json["id"]?.stringValue == id)

        // Resume with Last-Event-ID mid-stream.
        let second = try await submit()
        let secondID = try #require(second.json["id"]?.stringValue)
        let head = try await sse(client, stack, token, secondID, until: { $0.event == "delta" })
        let resumeFrom = try #require(head.last?.id)
        let rest = try await sse(client, stack, token, secondID, lastEventID: resumeFrom)
        #expect(rest.first.flatMap { $0.id.flatMap { Int($0) } } == Int(resumeFrom).map { $0 + 1 }, "resumes right after \(resumeFrom)")
        #expect(rest.last?.event == "completed")
        let ids = (head + rest).compactMap { $0.id.flatMap { Int($0) } }
        #expect(ids == Array(ids.sorted()) && Set(ids).count == ids.count, "no event twice, none out of order")

        // WebSocket with two jobs.
        let a = try #require(try await submit().json["id"]?.stringValue)
        let b = try #require(try await submit().json["id"]?.stringValue)
        let ws = try TestWebSocketClient(port: stack.ports["api-core"] ?? 0, path: "/v1/stream?access_token=\(token)")
        try ws.send(text: #"{"type":"subscribe","job_id":"\#(a)"}"#)
        try ws.send(text: #"{"type":"subscribe","job_id":"\#(b)"}"#)
        var done = Set<String>()
        var deltas: [String: Int] = [:]
        let deadline = ContinuousClock.now + .seconds(20)
        while done.count < 2 && ContinuousClock.now < deadline {
            guard let frame = try ws.receiveFrame(timeout: .seconds(5)), frame.opcode == .text else { continue }
            let m = try JSONDecoder().decode(JSONValue.self, from: Data(frame.payload))
            guard m["type"]?.stringValue == "event", let job = m["job_id"]?.stringValue else { continue }
            if m["event"]?.stringValue == "delta" { deltas[job, default: 0] += 1 }
            if m["event"]?.stringValue == "completed" { done.insert(job) }
        }
        #expect(done == [a, b] && (deltas[a] ?? 0) > 0 && (deltas[b] ?? 0) > 0)
        try ws.send(opcode: .close, payload: [0x03, 0xE8])

        // Cancel a long job: at once if still queued, through the worker if already running.
        let slow = try #require(try await submit(["kind": "chat", "model": "sim-slow", "input": ["messages": [["role": "user", "content": "Go on"]]]]).json["id"]?.stringValue)
        _ = try await sse(client, stack, token, slow, until: { $0.event == "delta" })
        let cancel = try await stack.call(.post, "api-core", "/v1/jobs/\(slow)/cancel", bearer: token)
        #expect(cancel.status == 200 || cancel.status == 202, "\(cancel.text)")
        let tail = try await sse(client, stack, token, slow, query: "?after=0")
        #expect(tail.last?.event == "cancelled", "\(tail.map(\.event).suffix(3))")
        try await eventually("cancelled record") {
            try await stack.call(.get, "api-core", "/v1/jobs/\(slow)", bearer: token).json["status"]?.stringValue == "cancelled"
        }

        // Another tenant gets 404; bad requests get clear errors.
        let other = try await stack.call(.post, "auth", "/v1/auth/signup", json: ["tenant_name": "Other", "email": "x-\(email)", "password": "correct horse battery"])
        let otherToken = try #require(other.json["access_token"]?.stringValue)
        let foreign = try await stack.call(.get, "api-core", "/v1/jobs/\(id)", bearer: otherToken)
        #expect(foreign.status == 404 && foreign.errorCode == "job_not_found")
        #expect(try await stack.call(.get, "api-core", "/v1/jobs/\(id)/events", bearer: otherToken).status == 404)
        let malformed = try await stack.call(.post, "api-core", "/v1/jobs", raw: Array("{\"kind\":".utf8), bearer: token)
        #expect(malformed.status == 400 && malformed.errorCode == "invalid_json")
        let invalid = try await submit(["kind": "chat", "model": "sim-e2e", "input": ["messages": "hi"]])
        #expect(invalid.status == 422 && invalid.json["error"]?["message"]?.stringValue?.contains("input.messages") == true)
        let oversized = try await submit(["kind": "chat", "model": "sim-e2e", "input": ["messages": [["role": "user", "content": String(repeating: "y", count: 300_000)]]]])
        #expect(oversized.status == 413)
        let anonymous = try await stack.call(.post, "api-core", "/v1/jobs", json: job)
        #expect(anonymous.status == 401 && anonymous.errorCode == "unauthorized")

        // The WebSocket's ?access_token= never reaches the access log (it prints the path only).
        let apiLog = stack.processes.first { $0.0 == "api-core" }?.1.output ?? ""
        #expect(apiLog.contains(#""path":"/v1/stream""#), "the access log is on")
        #expect(!apiLog.contains(token) && !apiLog.contains(stack.token), "a credential leaked into api-core's log")
    }

    /// Reads a job's SSE stream until `until` matches an event or the stream ends.
    func sse(
        _ client: HTTPClient, _ stack: Stack, _ token: String, _ id: String, lastEventID: String? = nil, query: String = "",
        until: (ServerSentEvent) -> Bool = { _ in false }
    ) async throws -> [ServerSentEvent] {
        var request = HTTPClientRequest(method: .get, url: stack.url("api-core") + "/v1/jobs/\(id)/events" + query)
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await client.execute(request, timeout: .seconds(30))
        try #require(response.status.code == 200)
        var out: [ServerSentEvent] = []
        for try await event in response.body.serverSentEvents() {
            out.append(event)
            if until(event) { break }
        }
        return out
    }
}
