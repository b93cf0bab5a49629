import APICore
import Auth
import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import BulkheadService
import BulkheadTesting
import Foundation
import QueueBroker
import Shared
import Testing

/// auth, queue-broker and api-core running in-process on port 0, driven over real HTTP. Tests
/// play the worker's part by writing the contract's events and updates to queue-broker.
final class APIStack: Sendable {
    static let internalToken = "api-core-test-internal-token"
    let auth: ServiceHost
    let broker: ServiceHost
    let api: ServiceHost
    let client: HTTPClient
    let directory: String
    /// Every api-core response this stack's tests saw (for the OpenAPI check).
    let recorder = Recorder()

    init(_ extra: [String: String] = [:]) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bulkhead-api-\(UUID().uuidString)").path
        self.directory = directory
        func env(_ name: String, _ more: [String: String] = [:]) -> Environment {
            var values = [
                "HOST": "127.0.0.1", "PORT": "0", "DATA_DIR": directory + "/" + name, "BULKHEAD_INTERNAL_TOKEN": Self.internalToken,
                "LOOP_THREADS": "1", "LOG_LEVEL": "error", "ACCESS_LOG": "false",
            ]
            for (k, v) in more { values[k] = v }
            return Environment(values)
        }
        auth = try await ServiceHost.start(AuthService.self, environment: env("auth", ["AUTH_SCRYPT_LOG_N": "10"]))
        broker = try await ServiceHost.start(QueueBrokerService.self, environment: env("broker", ["QUEUE_SYNCHRONOUS": "normal"]))
        var apiEnv = [
            "AUTH_URL": "http://127.0.0.1:\(auth.port)", "QUEUE_BROKER_URL": "http://127.0.0.1:\(broker.port)",
            "API_PLAN_CACHE_TTL": "0s", "API_SSE_HEARTBEAT": "1s",
        ]
        for (k, v) in extra { apiEnv[k] = v }
        api = try await ServiceHost.start(APICoreService.self, environment: env("api", apiEnv))
        client = try HTTPClient()
        // Ready at once (queue-broker is not a readiness dependency); jobs need the queues declared.
        try await eventually("api-core ready") { try await self.call(.get, "/readyz").status == 200 }
        try await eventually("queues declared") { try await self.call(.get, "/metrics").text.contains("\napi_queues_declared 1") }
    }

    func stop() async {
        await client.shutdown()
        await api.shutdown()
        await broker.shutdown()
        await auth.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }

    var apiBase: String { "http://127.0.0.1:\(api.port)" }
    var authBase: String { "http://127.0.0.1:\(auth.port)" }
    var brokerBase: String { "http://127.0.0.1:\(broker.port)" }

    struct Reply: Sendable {
        var method: String
        var path: String
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
        var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body))) ?? .null }
        var errorCode: String? { json["error"]?["code"]?.stringValue }
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first(name) }
    }

    /// One request to `base` (api-core by default).
    func call(
        _ method: HTTPMethod, _ path: String, json: Any? = nil, raw: [UInt8]? = nil, bearer: String? = nil, headers: HTTPHeaders = HTTPHeaders(),
        base: String? = nil
    ) async throws -> Reply {
        var request = HTTPClientRequest(method: method, url: (base ?? apiBase) + path, headers: headers)
        if let bearer { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let json {
            request.body = Array(try JSONSerialization.data(withJSONObject: json))
            request.headers.add(name: "Content-Type", value: "application/json")
        } else if let raw {
            request.body = raw
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await client.execute(request, timeout: .seconds(15))
        let body = try await response.body.collect(upTo: 8 << 20)
        let reply = Reply(method: method.rawValue, path: path, status: response.status.code, headers: response.headers, body: body)
        if base == nil { recorder.record(reply) }
        return reply
    }

    func internalCall(_ method: HTTPMethod, _ base: String, _ path: String, json: Any? = nil) async throws -> Reply {
        try await call(method, path, json: json, bearer: Self.internalToken, base: base)
    }

    struct Account: Sendable {
        var tenant: String
        var userID: String
        var email: String
        var password: String
        var access: String
    }

    /// A fresh tenant whose owner is signed in; moved to `plan`.
    func signup(plan: String? = "enterprise") async throws -> Account {
        let email = "owner-\(UUID().uuidString.prefix(8))@example.com"
        let r = try await call(
            .post, "/v1/auth/signup", json: ["tenant_name": "Acme", "email": email, "password": "correct horse battery"], base: authBase)
        try #require(r.status == 201, "signup: \(r.text)")
        let account = Account(
            tenant: try #require(r.json["tenant"]?["id"]?.stringValue), userID: try #require(r.json["user"]?["id"]?.stringValue), email: email,
            password: "correct horse battery", access: try #require(r.json["access_token"]?.stringValue))
        if let plan { try await setPlan(account.tenant, plan) }
        return account
    }

    func setPlan(_ tenant: String, _ plan: String) async throws {
        let r = try await internalCall(.put, authBase, "/internal/tenants/\(tenant)/plan", json: ["plan": plan])
        try #require(r.status == 200, "set plan: \(r.text)")
    }

    static var chatJob: [String: Any] {
        ["kind": "chat", "model": "sim-small", "input": ["messages": [["role": "user", "content": "Hello"]]], "metadata": ["team": "a"]]
    }

    func submit(_ account: Account, _ body: [String: Any] = APIStack.chatJob, key: String? = nil) async throws -> Reply {
        var headers = HTTPHeaders()
        if let key { headers.add(name: "Idempotency-Key", value: key) }
        return try await call(.post, "/v1/jobs", json: body, bearer: account.access, headers: headers)
    }

    func submitted(_ account: Account, _ body: [String: Any] = APIStack.chatJob) async throws -> String {
        let r = try await submit(account, body)
        try #require(r.status == 202, "submit: \(r.text)")
        return try #require(r.json["id"]?.stringValue)
    }

    // MARK: The worker's side of the contract

    /// Receives one job message from `ai-jobs` (long-polling up to 5 s).
    func receiveJob() async throws -> (message: AIJobMessage, receipt: String) {
        let r = try await internalCall(.post, brokerBase, "/internal/v1/queues/\(AIJobContract.jobQueue)/receive", json: ["wait_seconds": 5])
        let m = try #require(r.json["messages"]?.arrayValue?.first, "no job message: \(r.text)")
        let body = try #require(m["body"])
        let message = try JSONDecoder().decode(AIJobMessage.self, from: JSONEncoder().encode(body))
        return (message, try #require(m["receipt"]?.stringValue))
    }

    /// Appends job events as a worker does; returns their stream ids.
    @discardableResult
    func appendEvents(_ jobID: String, _ events: [(AIJobEventType, AIJobEventData)]) async throws -> [Int64] {
        let items: [[String: Any]] = try events.map { type, data in
            ["type": type.rawValue, "data": try JSONSerialization.jsonObject(with: JSONEncoder().encode(data))]
        }
        let r = try await internalCall(.post, brokerBase, "/internal/v1/streams/\(AIJobContract.streamKey(jobID))/events", json: ["events": items])
        try #require(r.status == 201, "append: \(r.text)")
        return (r.json["ids"]?.arrayValue ?? []).compactMap { $0.doubleValue.map { Int64($0) } }
    }

    /// Sends a message body (any Encodable) to a queue.
    func sendToQueue(_ queue: String, _ body: some Encodable) async throws {
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(body))
        let r = try await internalCall(.post, brokerBase, "/internal/v1/queues/\(queue)/messages", json: ["body": object])
        try #require(r.status == 201 || r.status == 200, "send: \(r.text)")
    }

    /// Plays a whole successful run: running, two deltas, completed (stream + update queue) and the usage record.
    func completeJob(_ message: AIJobMessage, cost: Int64 = 1234) async throws {
        let id = message.jobID
        let running = AIJobEventData(jobID: id, status: .running, timing: AIJobTiming(queuedAt: message.queuedAt, startedAt: message.queuedAt + 5), worker: "w1")
        try await appendEvents(id, [(.status, running)])
        try await sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: message.tenant, data: running))
        try await appendEvents(id, [(.delta, AIJobEventData(jobID: id, content: "Hel")), (.delta, AIJobEventData(jobID: id, content: "lo!"))])
        let usage = TokenUsage(promptTokens: 5, completionTokens: 2)
        let result: JSONValue = .object([
            "object": .string("chat.completion"), "model": .string(message.model),
            "choices": .array([.object(["index": .number(0), "message": .object(["role": .string("assistant"), "content": .string("Hello!")]), "finish_reason": .string("stop")])]),
        ])
        let done = AIJobEventData(
            jobID: id, status: .completed, result: result, usage: usage, costMicroUSD: cost,
            timing: AIJobTiming(queuedAt: message.queuedAt, startedAt: message.queuedAt + 5, firstTokenAt: message.queuedAt + 7, completedAt: message.queuedAt + 9))
        try await appendEvents(id, [(.completed, done)])
        try await sendToQueue(AIJobContract.updateQueue, AIJobUpdate(tenant: message.tenant, data: done))
        try await sendToQueue(
            AIJobContract.usageQueue,
            UsageRecord(id: "job:\(id)", tenant: message.tenant, subject: message.subject, subjectKind: message.subjectKind, model: message.model,
                deployment: "sim", usage: usage, costMicroUSD: cost, jobID: id, at: Int64(Date().timeIntervalSince1970 * 1000)))
    }

    /// The value of one series of api-core's `/metrics` (`name{labels}` exactly as exposed), nil when absent.
    func metric(_ series: String) async throws -> Double? {
        let text = try await call(.get, "/metrics").text
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    /// Makes queue-broker dead-letter the next `count` job messages as it does after a worker
    /// failed every delivery: `ai-jobs` is set to one receive, each message is received and
    /// nacked without delay, and the next receive moves them to the dead letters. `prepare`
    /// runs after the messages are received, before they are dead-lettered.
    func deadLetterJobs(_ count: Int, prepare: ([AIJobMessage]) async throws -> Void = { _ in }) async throws -> [AIJobMessage] {
        let settings = try await internalCall(.put, brokerBase, "/internal/v1/queues/\(AIJobContract.jobQueue)", json: [
            "visibility_timeout_seconds": 60, "max_receives": 1, "nack_backoff_base_seconds": 0,
        ])
        try #require(settings.status == 200, "queue settings: \(settings.text)")
        var received: [(message: AIJobMessage, receipt: String)] = []
        for _ in 0..<count { received.append(try await receiveJob()) }
        try await prepare(received.map(\.message))
        for (_, receipt) in received {
            let r = try await internalCall(.post, brokerBase, "/internal/v1/queues/\(AIJobContract.jobQueue)/nack", json: ["receipt": receipt, "delay_seconds": 0])
            try #require(r.status == 200, "nack: \(r.text)")
        }
        let again = try await internalCall(.post, brokerBase, "/internal/v1/queues/\(AIJobContract.jobQueue)/receive", json: ["max_messages": 10])
        try #require(again.json["messages"]?.arrayValue?.isEmpty == true, "a job message was delivered again: \(again.text)")
        let dead = try await internalCall(.get, brokerBase, "/internal/v1/queues/\(AIJobContract.jobQueue)/dead-letters")
        try #require(dead.json["messages"]?.arrayValue?.count == count, "dead letters: \(dead.text)")
        return received.map(\.message)
    }

    /// Reads an SSE response until `count` events or the stream ends.
    func events(_ account: Account, _ jobID: String, lastEventID: String? = nil, query: String = "", upTo count: Int = 100) async throws
        -> (status: Int, events: [ServerSentEvent])
    {
        var request = HTTPClientRequest(method: .get, url: apiBase + "/v1/jobs/\(jobID)/events" + query)
        request.headers.add(name: "Authorization", value: "Bearer \(account.access)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response = try await client.execute(request, timeout: .seconds(20))
        guard response.status.code == 200 else {
            let body = try await response.body.collect(upTo: 1 << 20)
            recorder.record(Reply(method: "GET", path: "/v1/jobs/\(jobID)/events", status: response.status.code, headers: response.headers, body: body))
            return (response.status.code, [])
        }
        var out: [ServerSentEvent] = []
        for try await event in response.body.serverSentEvents() {
            out.append(event)
            if out.count >= count { break }
        }
        recorder.record(method: "GET", path: "/v1/jobs/\(jobID)/events", status: 200, contentType: "text/event-stream", messages: out.map(\.data))
        return (200, out)
    }
}

/// Polls `condition` until it holds (deadline 10 s); fails the test otherwise.
func eventually(_ what: String, timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(25))
    }
    Issue.record("timed out waiting for \(what)")
    throw TestError("timed out waiting for \(what)")
}

/// Runs `body` against a fresh stack and always stops it.
func withStack<T>(_ extra: [String: String] = [:], _ body: (APIStack) async throws -> T) async throws -> T {
    let stack = try await APIStack(extra)
    do {
        let value = try await body(stack)
        await stack.stop()
        return value
    } catch {
        await stack.stop()
        throw error
    }
}
