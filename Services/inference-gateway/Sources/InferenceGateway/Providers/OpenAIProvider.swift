import BulkheadHTTP
import BulkheadHTTPClient
import Foundation
import Shared

/// The `openai` provider: any OpenAI-compatible server (OpenAI, vLLM, TGI, Ollama, llama.cpp).
/// The client's body goes upstream with only `model` replaced (unknown fields pass through) and,
/// for streams, `stream_options.include_usage` forced on so cost comes from real usage.
struct OpenAIProvider: ChatProvider {
    let clients: UpstreamClients
    /// Largest non-streamed upstream body accepted.
    static let maxResponseBytes = 32 << 20

    func complete(_ request: ProviderRequest) async throws -> ProviderCompletion {
        let response = try await send(request, stream: false)
        let bytes: [UInt8]
        do { bytes = try await response.body.collect(upTo: Self.maxResponseBytes) } catch {
            throw ProviderError.transport(error, deployment: request.deployment.id)
        }
        // The body passes through as sent; only the text and usage are read (scanned, or decoded when unusual).
        if let scanned = bytes.withUnsafeBufferPointer({ OpenAIChunkScanner.scan($0, choiceMember: "message") }) {
            return ProviderCompletion(body: bytes, usage: scanned.usage, text: scanned.content ?? "")
        }
        let parsed = try? JSONDecoder().decode(CompletionSummary.self, from: Data(bytes))
        let text = parsed?.choices?.first?.message?.content ?? ""
        return ProviderCompletion(body: bytes, usage: parsed?.usage?.tokenUsage, text: text)
    }

    func stream(_ request: ProviderRequest) async throws -> any ChatEventStream {
        let response = try await send(request, stream: true)
        return OpenAIEventStream(events: response.body.serverSentEvents().makeAsyncIterator(), deployment: request.deployment.id)
    }

    /// Sends the request and returns a 200 response, or throws the classified failure.
    private func send(_ request: ProviderRequest, stream: Bool) async throws -> HTTPClientResponse {
        let d = request.deployment
        var fields = request.chat.fields
        fields["model"] = .string(d.upstreamModel)
        if stream {
            fields["stream"] = .bool(true)
            var options = fields["stream_options"]?.objectValue ?? [:]
            options["include_usage"] = .bool(true)
            fields["stream_options"] = .object(options)
        } else {
            fields.removeValue(forKey: "stream")
            fields.removeValue(forKey: "stream_options")
        }
        // Written by hand: `JSONEncoder` over a `JSONValue` tree costs more than the proxying.
        var writer = JSONWriter(capacity: 1024)
        writer.object(fields)
        let body = writer.bytes
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if stream { headers.add(name: "Accept", value: "text/event-stream") }
        if let key = d.apiKey { headers.add(name: "Authorization", value: "Bearer \(key)") }
        headers.add(name: "X-Request-Id", value: request.requestID)
        let http = HTTPClientRequest(method: .post, url: d.baseURL + "/chat/completions", headers: headers, body: body, traceparent: request.traceparent)
        return try await clients.send(http, to: d)
    }
}

/// The parts of a `chat.completion` the gateway reads (usage and text); the body itself passes through.
struct CompletionSummary: Decodable {
    struct Choice: Decodable {
        struct Message: Decodable { var content: String? }
        var message: Message?
    }
    var choices: [Choice]?
    var usage: OpenAIUsage?
}

/// OpenAI's `usage` object.
struct OpenAIUsage: Decodable {
    struct PromptDetails: Decodable {
        var cachedTokens: Int?
        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }
    var promptTokens: Int
    var completionTokens: Int
    var promptTokensDetails: PromptDetails?
    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", promptTokensDetails = "prompt_tokens_details"
    }

    var tokenUsage: TokenUsage {
        TokenUsage(promptTokens: promptTokens, completionTokens: completionTokens, cachedPromptTokens: promptTokensDetails?.cachedTokens ?? 0)
    }
}

/// Reads an OpenAI-compatible SSE stream into provider-neutral events.
final class OpenAIEventStream: ChatEventStream, @unchecked Sendable {
    // One task reads at a time (the stream's owner); the class only exists to be passed around.
    private var events: ServerSentEventStream.AsyncIterator
    private var pending: [ChatStreamEvent] = []
    /// `[DONE]` was read: the stream is over (what follows it is not read).
    private var ended = false
    /// A failure found by `isReady()`, thrown by the next `next()` after the events before it.
    private var failure: (any Error)?
    private let deployment: String
    private let decoder = JSONDecoder()

    init(events: ServerSentEventStream.AsyncIterator, deployment: String) {
        self.events = events
        self.deployment = deployment
    }

    struct Chunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable {
                var content: String?
                var toolCalls: JSONValue?
                enum CodingKeys: String, CodingKey { case content, toolCalls = "tool_calls" }
            }
            var delta: Delta?
            var finishReason: String?
            enum CodingKeys: String, CodingKey { case delta, finishReason = "finish_reason" }
        }
        struct ErrorBody: Decodable { var message: String?; var type: String?; var code: JSONValue? }
        var choices: [Choice]?
        var usage: OpenAIUsage?
        var error: ErrorBody?
    }

    /// Parses the SSE events that already arrived until one yields a chat event, the stream's
    /// end, or a failure (kept for `next()`); true when `next()` will not wait.
    func isReady() -> Bool {
        while pending.isEmpty && !ended && failure == nil {
            guard let event = events.nextBuffered() else { return false }
            do { try process(event) } catch { failure = error }
        }
        return true
    }

    func next() async throws -> ChatStreamEvent? {
        while true {
            if !pending.isEmpty { return pending.removeFirst() }
            if let failure {
                self.failure = nil
                throw failure
            }
            if ended { return nil }
            let event: ServerSentEvent?
            do { event = try await events.next() } catch {
                throw ProviderError.transport(error, deployment: deployment)
            }
            guard let event else { return nil }
            try process(event)
        }
    }

    /// Turns one SSE event into chat events (appended to `pending`), or marks the end at `[DONE]`.
    private func process(_ event: ServerSentEvent) throws {
        if event.data == "[DONE]" {
            ended = true
            return
        }
        if event.data.isEmpty { return }
        var data = event.data
        // The common chunk shape is scanned in place; anything else goes through the decoder.
        guard let scanned = data.withUTF8({ OpenAIChunkScanner.scan($0) }) else {
            return try decodeSlowly(data)
        }
        if scanned.hasChoice {
            let tools = scanned.toolCalls.flatMap { try? decoder.decode(JSONValue.self, from: Data($0)) }
            let content = scanned.content
            if (content != nil && content != "") || (tools != nil && tools != .null) || scanned.finishReason != nil {
                pending.append(.delta(content: content, toolCalls: tools == .null ? nil : tools, finishReason: scanned.finishReason))
            }
        }
        if let usage = scanned.usage { pending.append(.usage(usage)) }
    }

    /// The decoder path: error chunks, unusual shapes, malformed chunks.
    private func decodeSlowly(_ data: String) throws {
        let chunk: Chunk
        do { chunk = try decoder.decode(Chunk.self, from: Data(data.utf8)) } catch {
            throw ProviderError(kind: .streamError, error: GatewayError(
                status: .badGateway, message: "The upstream sent a malformed stream chunk.", type: "api_error", code: "upstream_error",
                retryable: true))
        }
        if let e = chunk.error {
            throw ProviderError(kind: .streamError, error: GatewayError(
                status: .badGateway, message: e.message ?? "The upstream stream failed.", type: e.type ?? "api_error",
                code: e.code?.stringValue ?? "upstream_error", retryable: true))
        }
        if let choice = chunk.choices?.first {
            let content = choice.delta?.content
            let tools = choice.delta?.toolCalls
            if (content != nil && content != "") || (tools != nil && tools != .null) || choice.finishReason != nil {
                pending.append(.delta(content: content, toolCalls: tools == .null ? nil : tools, finishReason: choice.finishReason))
            }
        }
        if let usage = chunk.usage { pending.append(.usage(usage.tokenUsage)) }
    }
}
