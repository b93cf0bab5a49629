import Shared

/// One chat call as a provider sees it: the validated request and the deployment it goes to.
struct ProviderRequest: Sendable {
    var chat: ChatRequest
    var deployment: DeploymentConfig
    /// The public model name (what responses built by the gateway report).
    var publicModel: String
    var estimatedPromptTokens: Int
    var traceparent: String?
    var requestID: String
}

/// A finished non-streamed completion.
struct ProviderCompletion: Sendable {
    /// A `chat.completion` object, as the upstream sent it (OpenAI) or as the gateway built it.
    var body: [UInt8]
    /// Usage the provider reported; nil when it gave none (the core then estimates).
    var usage: TokenUsage?
    /// The generated text (for estimates when usage is missing).
    var text: String
}

/// A piece of a streamed completion, in the provider-neutral form the gateway turns into OpenAI chunks.
enum ChatStreamEvent: Sendable {
    /// Text (possibly several tokens), optional tool-call deltas, and the finish reason when this is the last piece.
    case delta(content: String?, toolCalls: JSONValue?, finishReason: String?)
    /// The provider's usage for the whole call (usually last).
    case usage(TokenUsage)
}

/// A streamed completion being read. Used by one task at a time.
protocol ChatEventStream: AnyObject, Sendable {
    /// The next event, nil at the end; throws `ProviderError` on an upstream failure.
    func next() async throws -> ChatStreamEvent?
    /// Whether `next()` would return at once, without waiting for the upstream (it may parse
    /// what already arrived to find out). The pump writes to its client only when this is
    /// false, so the events of one upstream read go out in one write, and nothing already
    /// produced waits on the network.
    func isReady() -> Bool
}

extension ChatEventStream {
    /// Streams that do not buffer are never ready: the pump writes after every event.
    func isReady() -> Bool { false }
}

/// A provider of chat completions: a real HTTP client of a wire format, or the simulator.
protocol ChatProvider: Sendable {
    func complete(_ request: ProviderRequest) async throws -> ProviderCompletion
    /// Starts a stream; returns once the upstream accepted it (HTTP head received).
    func stream(_ request: ProviderRequest) async throws -> any ChatEventStream
}
