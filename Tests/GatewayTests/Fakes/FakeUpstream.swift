import BulkheadHTTP
import BulkheadObservability
import Foundation
import Shared
import Synchronization

/// A fake model server on 127.0.0.1:0 that speaks OpenAI's (`POST /v1/chat/completions`,
/// `POST /v1/embeddings`) and Anthropic's (`POST /v1/messages`) wire formats, streamed or not,
/// scripted per test: each request takes the next queued `Behavior` (or the default).
///
/// ```swift
/// let fake = try FakeUpstream()
/// fake.enqueue(.status(429, headers: [("retry-after-ms", "50")]))
/// fake.defaultBehavior = .reply(FakeReply(text: "Hello there", promptTokens: 7, completionTokens: 2))
/// // catalog: "base_url": fake.openAIBaseURL  (or fake.baseURL for anthropic)
/// await fake.shutdown()
/// ```
final class FakeUpstream: Sendable {
    /// What one request gets.
    enum Behavior: Sendable {
        /// A normal answer (as JSON or as a stream, whichever was asked).
        case reply(FakeReply)
        /// An error status with a body in the dialect of the route (or `body` as given).
        case status(Int, body: String? = nil, headers: [(String, String)] = [])
        /// Accepts the request and never answers (until the server shuts down).
        case hang
        /// Streams `tokensBefore` tokens, then fails: an `error` event (Anthropic) or an error chunk (OpenAI).
        case midStreamError(tokensBefore: Int, message: String)
        /// Streams `tokensBefore` tokens, then cuts the connection.
        case cut(tokensBefore: Int)
    }

    let server: HTTPServer
    private let state = Mutex(State())

    struct State {
        var queue: [Behavior] = []
        var defaultBehavior: Behavior = .reply(FakeReply())
        var requests: [Recorded] = []
        var inFlight = 0
        var maxInFlight = 0
    }

    /// A request as received.
    struct Recorded: Sendable {
        var path: String
        var headers: HTTPHeaders
        var body: JSONValue
    }

    init() throws {
        var router = Router()
        let box = FakeBox()
        router.post("/v1/chat/completions", bodyLimit: 8 << 20) { request, _ in try await box.fake?.handle(request, dialect: .openai) ?? .text("gone", status: .serviceUnavailable) }
        router.post("/v1/messages", bodyLimit: 8 << 20) { request, _ in try await box.fake?.handle(request, dialect: .anthropic) ?? .text("gone", status: .serviceUnavailable) }
        router.post("/v1/embeddings", bodyLimit: 8 << 20) { request, _ in try await box.fake?.handle(request, dialect: .embeddings) ?? .text("gone", status: .serviceUnavailable) }
        var config = HTTPServerConfiguration()
        config.host = "127.0.0.1"
        config.port = 0
        config.loopCount = 1
        let app = HTTPApplication(
            router: router, middleware: [], logger: Logger(service: "fake-upstream", minimumLevel: .error),
            defaultBodyLimit: config.defaultMaxBodyBytes, accessLog: false)
        server = try HTTPServer(configuration: config, responder: app)
        try server.start()
        box.set(self)
    }

    var port: Int { server.port }
    /// Base URL for an `openai` deployment (`.../v1`).
    var openAIBaseURL: String { "http://127.0.0.1:\(port)/v1" }
    /// Base URL for an `anthropic` deployment.
    var baseURL: String { "http://127.0.0.1:\(port)" }

    var defaultBehavior: Behavior {
        get { state.withLock { $0.defaultBehavior } }
        set { state.withLock { $0.defaultBehavior = newValue } }
    }

    func enqueue(_ behaviors: Behavior...) { state.withLock { $0.queue += behaviors } }
    var requests: [Recorded] { state.withLock { $0.requests } }
    var requestCount: Int { state.withLock { $0.requests.count } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    func shutdown() async { await server.shutdown(gracePeriod: .milliseconds(200)) }

    enum Dialect { case openai, anthropic, embeddings }

    private func handle(_ request: HTTPRequest, dialect: Dialect) async throws -> HTTPResponse {
        let body = (try? JSONDecoder().decode(JSONValue.self, from: Data(request.body))) ?? .null
        let behavior = state.withLock { s -> Behavior in
            s.requests.append(Recorded(path: String(request.path), headers: request.headers, body: body))
            s.inFlight += 1
            s.maxInFlight = max(s.maxInFlight, s.inFlight)
            return s.queue.isEmpty ? s.defaultBehavior : s.queue.removeFirst()
        }
        defer { state.withLock { $0.inFlight -= 1 } }
        let stream = body["stream"]?.boolValue == true
        switch behavior {
        case .hang:
            // Never answers; ends when the server shuts down or the client goes away.
            return .stream(headers: ["Content-Type": "text/event-stream"]) { writer in await writer.waitForClose() }
        case .status(let code, let custom, let headers):
            let text = custom ?? (dialect == .anthropic
                ? #"{"type":"error","error":{"type":"\#(code == 429 ? "rate_limit_error" : code >= 500 ? "api_error" : "invalid_request_error")","message":"fake \#(code)"}}"#
                : #"{"error":{"message":"fake \#(code)","type":"\#(code == 429 ? "rate_limit_error" : "server_error")","param":null,"code":null}}"#)
            return HTTPResponse.json(bytes: Array(text.utf8), status: HTTPStatus(code: code), headers: HTTPHeaders(headers))
        case .reply(let reply):
            if dialect == .embeddings { return FakeWire.embeddings(body, reply: reply) }
            if reply.ttft > .zero && !stream { try await Task.sleep(for: reply.ttft) }
            if !stream { return dialect == .anthropic ? FakeWire.anthropicMessage(reply) : FakeWire.openAICompletion(reply) }
            return FakeWire.stream(reply, dialect: dialect, failAfter: nil, cutAfter: nil)
        case .midStreamError(let n, let message):
            return FakeWire.stream(FakeReply(), dialect: dialect, failAfter: (n, message), cutAfter: nil)
        case .cut(let n):
            return FakeWire.stream(FakeReply(), dialect: dialect, failAfter: nil, cutAfter: n)
        }
    }
}

/// A scripted answer.
struct FakeReply: Sendable {
    var tokens: [String] = ["Hello", " from", " the", " fake", " upstream", "."]
    var promptTokens = 11
    var completionTokens = 6
    var cachedTokens = 0
    /// Send no usage at all (the gateway must estimate and say so).
    var omitUsage = false
    var ttft: Duration = .zero
    var interTokenDelay: Duration = .zero
    var finishReason = "stop"

    init(
        text: String? = nil, promptTokens: Int = 11, completionTokens: Int = 6, cachedTokens: Int = 0, omitUsage: Bool = false,
        ttft: Duration = .zero, interTokenDelay: Duration = .zero
    ) {
        if let text { tokens = text.split(separator: " ", omittingEmptySubsequences: false).enumerated().map { $0 == 0 ? String($1) : " " + $1 } }
        self.promptTokens = promptTokens; self.completionTokens = completionTokens; self.cachedTokens = cachedTokens
        self.omitUsage = omitUsage; self.ttft = ttft; self.interTokenDelay = interTokenDelay
    }

    var text: String { tokens.joined() }
}

/// Lets the router's closures reach the fake without a retain cycle at init.
private final class FakeBox: Sendable {
    private let ref = Mutex<FakeUpstream?>(nil)
    func set(_ f: FakeUpstream) { ref.withLock { $0 = f } }
    var fake: FakeUpstream? { ref.withLock { $0 } }
}
