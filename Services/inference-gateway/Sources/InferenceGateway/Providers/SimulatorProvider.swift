import Shared

/// The `simulator` provider: a chat model simulator for load tests and the stack's embedded
/// default. Its text is derived from the prompt (the same prompt gives the same answer), the
/// first token comes after the configured time-to-first-token, then tokens at the configured
/// rate, emitted in batches per tick (at most ~50 wake-ups per second per stream) so thousands
/// of concurrent streams cost little CPU. One word is one token.
struct SimulatorProvider: ChatProvider {
    static let words: [String] = [
        "the", "gateway", "routes", "every", "request", "to", "a", "simulated", "model", "that", "answers", "with", "tokens",
        "at", "steady", "rate", "while", "costs", "are", "counted", "per", "tenant", "and", "limits", "hold", "across",
        "replicas", "so", "heavy", "workloads", "never", "starve", "light", "ones", "cache", "hits", "return", "at", "once",
        "streams", "flow", "without", "buffering", "retries", "back", "off", "circuits", "open", "then", "recover",
    ]

    /// The deterministic answer for a request: the words and why it ended.
    static func answer(_ request: ProviderRequest) -> (tokens: [String], finishReason: String) {
        let settings = request.deployment.simulator
        var limit = settings.outputTokens
        var finish = "stop"
        if let cap = request.chat.maxTokens, cap < limit { limit = cap; finish = "length" }
        // FNV-1a over the conversation seeds a xorshift generator.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for m in request.chat.messages {
            for b in ChatRequest.text(of: m["content"]).utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
            h = (h ^ 0x0A) &* 0x100_0000_01b3
        }
        var state = h == 0 ? 0x9E37_79B9_7F4A_7C15 : h
        var tokens: [String] = []
        tokens.reserveCapacity(limit)
        for i in 0..<limit {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            let word = words[Int(state % UInt64(words.count))]
            tokens.append(i == 0 ? word.prefix(1).uppercased() + word.dropFirst() : " " + word)
        }
        if finish == "stop", var last = tokens.popLast() { last += "."; tokens.append(last) }
        return (tokens, finish)
    }

    static func injectedFailure(_ d: DeploymentConfig) -> ProviderError? {
        guard d.simulator.failureRate > 0, Double.random(in: 0..<1) < d.simulator.failureRate else { return nil }
        return ProviderError.status(
            d.simulator.failureStatus, message: "simulated failure of \(d.id)", type: nil, code: "simulated_failure", retryAfter: nil,
            contextExceeded: false)
    }

    func complete(_ request: ProviderRequest) async throws -> ProviderCompletion {
        let d = request.deployment
        if let failure = Self.injectedFailure(d) { throw failure }
        let (tokens, finish) = Self.answer(request)
        if d.simulator.timeToFirstToken > .zero { try await Task.sleep(for: d.simulator.timeToFirstToken) }
        if d.simulator.tokensPerSecond > 0, tokens.count > 1 {
            try await Task.sleep(for: .seconds(Double(tokens.count - 1) / d.simulator.tokensPerSecond))
        }
        let text = tokens.joined()
        let usage = TokenUsage(promptTokens: request.estimatedPromptTokens, completionTokens: tokens.count)
        let body = ChunkEncoder.completion(
            id: ChunkEncoder.newID(), created: Int(WallClock.nowSeconds), model: request.publicModel, text: text, finishReason: finish,
            usage: usage)
        return ProviderCompletion(body: body, usage: usage, text: text)
    }

    func stream(_ request: ProviderRequest) async throws -> any ChatEventStream {
        if let failure = Self.injectedFailure(request.deployment) { throw failure }
        let (tokens, finish) = Self.answer(request)
        return SimulatorStream(
            tokens: tokens, finishReason: finish, settings: request.deployment.simulator, promptTokens: request.estimatedPromptTokens)
    }
}

/// A simulated stream: sleeps for the time to first token, then hands out batches of tokens per tick.
final class SimulatorStream: ChatEventStream, @unchecked Sendable {
    // Read by one task at a time.
    private let tokens: [String]
    private let finishReason: String
    private let settings: SimulatorSettings
    private let promptTokens: Int
    private var position = 0
    private var started = false
    private var usageSent = false
    private var lastTick = ContinuousClock.now

    init(tokens: [String], finishReason: String, settings: SimulatorSettings, promptTokens: Int) {
        self.tokens = tokens; self.finishReason = finishReason; self.settings = settings; self.promptTokens = promptTokens
    }

    func next() async throws -> ChatStreamEvent? {
        if !started {
            started = true
            if settings.timeToFirstToken > .zero { try await Task.sleep(for: settings.timeToFirstToken) }
            lastTick = .now
            return emit(count: 1)
        }
        if position < tokens.count {
            guard settings.tokensPerSecond > 0 else { return emit(count: tokens.count - position) }
            // Wake at most every 20 ms (or once per token when slower) and hand out what the rate allows.
            let perToken = 1.0 / settings.tokensPerSecond
            let tick = max(0.02, perToken)
            try await Task.sleep(until: lastTick + .seconds(tick), clock: .continuous)
            let now = ContinuousClock.now
            let elapsed = now - lastTick
            lastTick = now
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return emit(count: max(1, Int(seconds / perToken)))
        }
        if !usageSent {
            usageSent = true
            return .usage(TokenUsage(promptTokens: promptTokens, completionTokens: tokens.count))
        }
        return nil
    }

    private func emit(count: Int) -> ChatStreamEvent {
        let end = min(tokens.count, position + count)
        let text = tokens[position..<end].joined()
        position = end
        return .delta(content: text, toolCalls: nil, finishReason: position == tokens.count ? finishReason : nil)
    }
}
