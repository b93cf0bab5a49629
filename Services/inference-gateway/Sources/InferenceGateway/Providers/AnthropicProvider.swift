import BulkheadHTTP
import BulkheadHTTPClient
import Foundation
import Shared

/// The `anthropic` provider: Anthropic's Messages API (`POST /v1/messages`, `x-api-key`,
/// `anthropic-version: 2023-06-01`), translated to and from OpenAI's chat format.
/// Text content only: tools and images are refused with a 400 naming the parameter.
struct AnthropicProvider: ChatProvider {
    let clients: UpstreamClients
    static let version = "2023-06-01"

    func complete(_ request: ProviderRequest) async throws -> ProviderCompletion {
        let response = try await send(request, stream: false)
        let bytes: [UInt8]
        do { bytes = try await response.body.collect(upTo: 32 << 20) } catch {
            throw ProviderError.transport(error, deployment: request.deployment.id)
        }
        guard let message = try? JSONDecoder().decode(Message.self, from: Data(bytes)) else {
            throw ProviderError(kind: .status5xx, error: GatewayError(
                status: .badGateway, message: "The upstream sent an unreadable message.", type: "api_error", code: "upstream_error", retryable: true))
        }
        let text = message.content.compactMap { $0.type == "text" ? $0.text : nil }.joined()
        let usage = message.usage.tokenUsage
        let body = ChunkEncoder.completion(
            id: "chatcmpl-" + message.id, created: Int(WallClock.nowSeconds), model: request.publicModel, text: text,
            finishReason: Self.finishReason(message.stopReason), usage: usage)
        return ProviderCompletion(body: body, usage: usage, text: text)
    }

    func stream(_ request: ProviderRequest) async throws -> any ChatEventStream {
        let response = try await send(request, stream: true)
        return AnthropicEventStream(events: response.body.serverSentEvents().makeAsyncIterator(), deployment: request.deployment.id)
    }

    static func finishReason(_ stop: String?) -> String {
        switch stop {
        case "max_tokens"?: "length"
        case "tool_use"?: "tool_calls"
        case "refusal"?: "content_filter"
        default: "stop"
        }
    }

    /// The Messages API body for an OpenAI chat request.
    static func body(_ request: ProviderRequest, stream: Bool) throws(ProviderError) -> [UInt8] {
        let chat = request.chat
        if chat.hasTools { throw refuse("The anthropic provider of this gateway does not support tools.", param: "tools") }
        if chat.n != 1 { throw refuse("The anthropic provider supports n = 1 only.", param: "n") }
        var system: [String] = []
        var messages: [JSONValue] = []
        for (i, m) in chat.messages.enumerated() {
            let role = m["role"]?.stringValue ?? "user"
            if case .array(let parts)? = m["content"], parts.contains(where: { $0["type"]?.stringValue != "text" }) {
                throw refuse("The anthropic provider accepts text content parts only.", param: "messages[\(i)].content")
            }
            let text = ChatRequest.text(of: m["content"])
            switch role {
            case "system", "developer": system.append(text)
            case "user", "assistant": messages.append(.object(["role": .string(role), "content": .string(text)]))
            default: throw refuse("The anthropic provider does not accept '\(role)' messages.", param: "messages[\(i)].role")
            }
        }
        if messages.isEmpty { throw refuse("At least one user message is required.", param: "messages") }
        var body: [String: JSONValue] = [
            "model": .string(request.deployment.upstreamModel), "messages": .array(messages),
            "max_tokens": .number(Double(chat.maxTokens ?? request.deployment.maxOutputTokens)),
        ]
        if !system.isEmpty { body["system"] = .string(system.joined(separator: "\n\n")) }
        if let t = chat.temperature { body["temperature"] = .number(min(1, t)) }
        if let p = chat.fields["top_p"], p != .null { body["top_p"] = p }
        switch chat.fields["stop"] {
        case .string(let s)?: body["stop_sequences"] = .array([.string(s)])
        case .array(let a)?: body["stop_sequences"] = .array(a)
        default: break
        }
        if let user = chat.fields["user"]?.stringValue { body["metadata"] = .object(["user_id": .string(user)]) }
        if stream { body["stream"] = .bool(true) }
        do { return [UInt8](try JSONEncoder().encode(body)) } catch {
            throw refuse("The request could not be encoded.", param: nil)
        }
    }

    private static func refuse(_ message: String, param: String?) -> ProviderError {
        ProviderError(kind: .status4xx, error: .invalid(message, param: param, code: "unsupported_parameter"))
    }

    private func send(_ request: ProviderRequest, stream: Bool) async throws -> HTTPClientResponse {
        let d = request.deployment
        let body = try Self.body(request, stream: stream)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "anthropic-version", value: Self.version)
        if let key = d.apiKey { headers.add(name: "x-api-key", value: key) }
        if stream { headers.add(name: "Accept", value: "text/event-stream") }
        let http = HTTPClientRequest(method: .post, url: d.baseURL + "/v1/messages", headers: headers, body: body, traceparent: request.traceparent)
        // Errors (529 overloaded is Anthropic's 503) are normalised by UpstreamErrorBody.
        return try await clients.send(http, to: d)
    }

    struct Usage: Decodable {
        var inputTokens: Int?
        var outputTokens: Int?
        var cacheReadInputTokens: Int?
        var cacheCreationInputTokens: Int?
        enum CodingKeys: String, CodingKey {
            case inputTokens = "input_tokens", outputTokens = "output_tokens", cacheReadInputTokens = "cache_read_input_tokens"
            case cacheCreationInputTokens = "cache_creation_input_tokens"
        }
        /// Anthropic counts cache reads and writes apart from `input_tokens`; OpenAI's prompt tokens include them.
        var tokenUsage: TokenUsage {
            let cached = cacheReadInputTokens ?? 0
            return TokenUsage(
                promptTokens: (inputTokens ?? 0) + cached + (cacheCreationInputTokens ?? 0), completionTokens: outputTokens ?? 0,
                cachedPromptTokens: cached)
        }
    }

    struct Message: Decodable {
        struct Block: Decodable { var type: String; var text: String? }
        var id: String
        var content: [Block]
        var stopReason: String?
        var usage: Usage
        enum CodingKeys: String, CodingKey { case id, content, stopReason = "stop_reason", usage }
    }
}

/// Reads Anthropic's stream events (`message_start`, `content_block_*`, `message_delta`,
/// `message_stop`, `ping`, `error`) into provider-neutral events.
final class AnthropicEventStream: ChatEventStream, @unchecked Sendable {
    // Read by one task at a time.
    private var events: ServerSentEventStream.AsyncIterator
    private let deployment: String
    private var usage = AnthropicProvider.Usage()
    private var finished = false
    private let decoder = JSONDecoder()

    init(events: ServerSentEventStream.AsyncIterator, deployment: String) {
        self.events = events
        self.deployment = deployment
    }

    struct Event: Decodable {
        struct Delta: Decodable {
            var type: String?
            var text: String?
            var stopReason: String?
            enum CodingKeys: String, CodingKey { case type, text, stopReason = "stop_reason" }
        }
        struct MessageStart: Decodable { var usage: AnthropicProvider.Usage? }
        struct ErrorBody: Decodable { var type: String?; var message: String? }
        var type: String
        var delta: Delta?
        var message: MessageStart?
        var usage: AnthropicProvider.Usage?
        var error: ErrorBody?
    }

    func next() async throws -> ChatStreamEvent? {
        while true {
            if finished { return nil }
            let sse: ServerSentEvent?
            do { sse = try await events.next() } catch { throw ProviderError.transport(error, deployment: deployment) }
            guard let sse else {
                // The stream ended without message_stop: a cut connection.
                throw ProviderError(kind: .streamError, error: GatewayError(
                    status: .badGateway, message: "The upstream stream ended early.", type: "api_error", code: "upstream_error", retryable: true))
            }
            if sse.data.isEmpty { continue }
            guard let event = try? decoder.decode(Event.self, from: Data(sse.data.utf8)) else {
                throw ProviderError(kind: .streamError, error: GatewayError(
                    status: .badGateway, message: "The upstream sent a malformed stream event.", type: "api_error", code: "upstream_error", retryable: true))
            }
            switch event.type {
            case "message_start":
                if let u = event.message?.usage { usage = u }
            case "content_block_delta":
                if event.delta?.type == "text_delta", let text = event.delta?.text, !text.isEmpty {
                    return .delta(content: text, toolCalls: nil, finishReason: nil)
                }
            case "message_delta":
                if let out = event.usage?.outputTokens { usage.outputTokens = out }
                if let input = event.usage?.inputTokens { usage.inputTokens = input }
                if let stop = event.delta?.stopReason {
                    return .delta(content: nil, toolCalls: nil, finishReason: AnthropicProvider.finishReason(stop))
                }
            case "message_stop":
                finished = true
                return .usage(usage.tokenUsage)
            case "error":
                let type = event.error?.type ?? "api_error"
                throw ProviderError(kind: .streamError, error: GatewayError(
                    status: type == "overloaded_error" ? .serviceUnavailable : .badGateway,
                    message: event.error?.message ?? "The upstream stream failed.",
                    type: UpstreamErrorBody.openAIType(type), code: type, retryable: true))
            default:
                continue  // ping, content_block_start, content_block_stop
            }
        }
    }
}
