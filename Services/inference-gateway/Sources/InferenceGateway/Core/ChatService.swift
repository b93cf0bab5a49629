import BulkheadHTTP
import Foundation
import Shared

/// The chat path shared by the HTTP route and the job worker's pipeline: validate, build the
/// `InferenceCall`, `hooks.admit`, cache lookup, dispatch to a deployment, cost, `ticket.finish`.
final class ChatService: Sendable {
    let store: CatalogStore
    let hooks: any InferenceHooks
    let dispatcher: Dispatcher
    let metrics: CoreMetrics
    let settings: CoreSettings
    let openai: OpenAIProvider
    let anthropic: AnthropicProvider
    let simulator = SimulatorProvider()

    init(store: CatalogStore, hooks: any InferenceHooks, metrics: CoreMetrics, settings: CoreSettings, clients: UpstreamClients) {
        self.store = store
        self.hooks = hooks
        self.metrics = metrics
        self.settings = settings
        dispatcher = Dispatcher(policy: settings.retry, metrics: metrics)
        openai = OpenAIProvider(clients: clients)
        anthropic = AnthropicProvider(clients: clients)
    }

    /// A validated call, ready to admit.
    struct Prepared: Sendable {
        var chat: ChatRequest
        var chain: [ModelRoute]
        var call: InferenceCall
        var requiredContext: Int
        var start: ContinuousClock.Instant
    }

    func provider(_ kind: ProviderKind) -> any ChatProvider {
        switch kind {
        case .openai: openai
        case .anthropic: anthropic
        case .simulator, .local: simulator
        }
    }

    /// Resolves the model, estimates tokens and the reservation, decides cacheability.
    func prepare(_ chat: ChatRequest, caller: Caller, bypassHeader: Bool, start: ContinuousClock.Instant) throws(GatewayError) -> Prepared {
        let snapshot = store.current
        guard let route = snapshot.route(chat.model) else {
            throw GatewayError(
                status: .notFound, message: "The model '\(chat.model)' does not exist or you do not have access to it.",
                type: "invalid_request_error", param: "model", code: "model_not_found")
        }
        guard route.config.kind == .chat else {
            throw GatewayError.invalid("'\(chat.model)' is an embeddings model; use /v1/embeddings.", param: "model", code: "model_not_supported")
        }
        if chat.stream && chat.n > 1 {
            throw GatewayError.invalid("Streaming with n > 1 is not supported by this gateway.", param: "n", code: "unsupported_value")
        }
        let chain = snapshot.chain(chat.model)
        let prompt = TokenEstimator.prompt(chat)
        let required = prompt + (chat.maxTokens ?? 0)
        var maxCompletion = chat.maxTokens ?? 0
        var reserve: Int64 = 0
        var fits = false
        for r in chain {
            for d in r.deployments where d.config.contextWindow >= required {
                fits = true
                let cap = chat.maxTokens ?? d.config.maxOutputTokens
                maxCompletion = max(maxCompletion, cap)
                reserve = max(reserve, CostCalculator.reserve(promptTokens: prompt, maxCompletionTokens: cap, prices: d.config.prices))
            }
        }
        guard fits else { throw Dispatcher.contextError(requiredContext: required, model: chat.model).error }
        let cacheable = CacheKeys.cacheable(chat, model: route.config, settings: settings, bypassHeader: bypassHeader)
        var namespace = ""
        var exact = ""
        var semantic = ""
        if cacheable {
            (namespace, exact) = CacheKeys.keys(chat, model: chat.model)
            semantic = chat.conversationText
        }
        let call = InferenceCall(
            caller: caller, kind: .chat, model: chat.model, stream: chat.stream, estimatedPromptTokens: prompt,
            maxCompletionTokens: maxCompletion, reserveCostMicroUSD: reserve, cacheable: cacheable, cacheNamespace: namespace,
            exactKey: exact, semanticText: semantic)
        return Prepared(chat: chat, chain: chain, call: call, requiredContext: required, start: start)
    }

    func providerRequest(_ p: Prepared, _ d: RoutedDeployment) -> ProviderRequest {
        ProviderRequest(
            chat: p.chat, deployment: d.config, publicModel: d.config.model, estimatedPromptTokens: p.call.estimatedPromptTokens,
            traceparent: p.call.caller.traceparent, requestID: p.call.caller.requestID)
    }

    // MARK: Non-streamed

    /// A finished non-streamed call.
    struct Completed: Sendable {
        var body: [UInt8]
        var usage: TokenUsage
        var cost: Int64
        var deployment: String
        var response: JSONValue?
    }

    /// Runs a non-streamed call to the end and reports it to the ticket.
    func complete(_ p: Prepared, ticket: any InferenceTicket) async throws(GatewayError) -> Completed {
        let served: Dispatcher.Served<ProviderCompletion>
        do {
            served = try await dispatcher.run(chain: p.chain, requiredContext: p.requiredContext) { d in
                let started = ContinuousClock.now
                let result = try await self.provider(d.config.provider).complete(self.providerRequest(p, d))
                d.state.observeLatency(.now - started)
                return result
            }
        } catch {
            await ticket.finish(InferenceOutcome(
                deployment: "", usage: TokenUsage(promptTokens: 0, completionTokens: 0), costMicroUSD: 0,
                errorType: error.code ?? error.type, duration: .now - p.start))
            throw error
        }
        dispatcher.release(served.deployment)
        let completion = served.value
        let usage = completion.usage ?? TokenUsage(
            promptTokens: p.call.estimatedPromptTokens, completionTokens: TokenEstimator.count(completion.text), estimated: true)
        let cost = CostCalculator.microUSD(usage, prices: served.deployment.config.prices)
        let elapsed = ContinuousClock.now - p.start
        metrics.duration.labels(served.model).observe(elapsed)
        metrics.timeToFirstToken.labels(served.model).observe(elapsed)
        let response = p.call.cacheable
            ? JSONReader.parse(completion.body) ?? (try? JSONDecoder().decode(JSONValue.self, from: Data(completion.body))) : nil
        await ticket.finish(InferenceOutcome(
            deployment: served.deployment.config.id, usage: usage, costMicroUSD: cost, response: response, timeToFirstToken: elapsed,
            duration: elapsed))
        return Completed(body: completion.body, usage: usage, cost: cost, deployment: served.deployment.config.id, response: response)
    }

    // MARK: Streamed

    /// A stream whose first token has arrived (it can no longer fail over).
    struct Started: Sendable {
        var stream: any ChatEventStream
        var buffered: [ChatStreamEvent]
    }

    /// Opens a stream on some deployment and waits for its first token (retrying and failing
    /// over until then). The caller must `pump` it (which releases the deployment).
    func start(_ p: Prepared) async throws(GatewayError) -> Dispatcher.Served<Started> {
        try await dispatcher.run(chain: p.chain, requiredContext: p.requiredContext) { d in
            let request = self.providerRequest(p, d)
            let provider = self.provider(d.config.provider)
            let opened = ContinuousClock.now
            let started: Started
            if d.config.provider == .simulator {
                started = try await Self.firstToken(provider: provider, request: request)
            } else {
                started = try await Self.firstToken(provider: provider, request: request, timeout: d.config.timeouts.firstToken)
            }
            d.state.observeLatency(.now - opened)
            return started
        }
    }

    /// Opens the stream and reads up to the first token (or the end).
    static func firstToken(provider: any ChatProvider, request: ProviderRequest) async throws -> Started {
        let stream = try await provider.stream(request)
        var buffered: [ChatStreamEvent] = []
        while let event = try await stream.next() {
            buffered.append(event)
            if case .delta = event { break }
        }
        return Started(stream: stream, buffered: buffered)
    }

    /// Shared by every stream's first-token deadline.
    static let firstTokenWatch = DeadlineWatch()

    /// `firstToken` under a deadline: past it the attempt is cancelled (closing its connection)
    /// and fails with `first_token_timeout`, so the call can go elsewhere.
    ///
    /// The attempt runs as the only child of a group (so it inherits this task's executor and
    /// cancellation) and hands its result through a `FirstTokenRace`; the deadline is an entry
    /// in the shared `DeadlineWatch`, not a sleeping task with a timer per stream.
    static func firstToken(provider: any ChatProvider, request: ProviderRequest, timeout: Duration) async throws -> Started {
        let race = FirstTokenRace()
        let token = firstTokenWatch.add(after: timeout) { race.finish(.failure(FirstTokenRace.TimedOut())) }
        defer { firstTokenWatch.remove(token) }
        let result = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do { race.finish(.success(try await firstToken(provider: provider, request: request))) } catch { race.finish(.failure(error)) }
            }
            let result = await race.value()
            // Past the deadline, cancelling the attempt aborts its upstream request; the group waits for it to unwind.
            if case .failure(let error) = result, error is FirstTokenRace.TimedOut { group.cancelAll() }
            return result
        }
        if case .failure(let error) = result, error is FirstTokenRace.TimedOut {
            throw ProviderError(kind: .firstTokenTimeout, error: GatewayError(
                status: .gatewayTimeout, message: "The upstream model sent no token within \(timeout).", type: "api_error",
                code: "first_token_timeout", retryable: true))
        }
        return try result.get()
    }

    /// Reads a started stream to its end, handing each piece to `emit`, charging progress on the
    /// ticket and finishing it once. Returns the usage, cost and text; a failure after the first
    /// token is returned as `failure` (the stream cannot fail over any more).
    struct Pumped: Sendable {
        var usage: TokenUsage
        var cost: Int64
        var estimated: Bool
        var text: String
        var finishReason: String?
        var failure: GatewayError?
        var clientGone: Bool
    }

    /// `emit` gets every event; `flush` is called before the pump would wait for the upstream
    /// (never between events that arrived together), so an emitter that buffers writes each
    /// upstream read in one piece. What is emitted after the last flush is the caller's to send.
    func pump(
        _ p: Prepared, served: Dispatcher.Served<Started>, ticket: any InferenceTicket, keepText: Bool,
        emit: (ChatStreamEvent) async throws -> Void, flush: () async throws -> Void = {}
    ) async -> Pumped {
        let d = served.deployment
        defer { dispatcher.release(d) }
        var usage: TokenUsage?
        var tokens = 0
        var sinceProgress = 0
        var text = ""
        var finishReason: String?
        var failure: GatewayError?
        var clientGone = false
        var firstAt: Duration?
        let prices = d.config.prices
        var buffered = served.value.buffered[...]
        let stream = served.value.stream
        do {
            while true {
                let event: ChatStreamEvent?
                if let b = buffered.popFirst() { event = b } else {
                    if !stream.isReady() { try await flush() }
                    do { event = try await stream.next() } catch {
                        if Task.isCancelled { clientGone = true; break }
                        let f = ProviderError.transport(error, deployment: d.config.id)
                        dispatcher.recordLateFailure(d, f)
                        failure = f.error
                        break
                    }
                }
                guard let event else { break }
                switch event {
                case .delta(let content, _, let finish):
                    if let content, !content.isEmpty {
                        if firstAt == nil {
                            firstAt = .now - p.start
                            metrics.timeToFirstToken.labels(served.model).observe(firstAt ?? .zero)
                        }
                        let n = TokenEstimator.count(content)
                        tokens += n
                        sinceProgress += n
                        if keepText { text += content }
                    }
                    if let finish { finishReason = finish }
                case .usage(let u):
                    usage = u
                }
                try await emit(event)
                if sinceProgress >= settings.progressEvery {
                    sinceProgress = 0
                    let soFar = TokenUsage(promptTokens: p.call.estimatedPromptTokens, completionTokens: tokens)
                    await ticket.progress(completionTokens: tokens, costMicroUSD: CostCalculator.microUSD(soFar, prices: prices))
                }
            }
        } catch {
            clientGone = true
        }
        let final = (failure == nil && !clientGone ? usage : nil)
            ?? TokenUsage(promptTokens: usage?.promptTokens ?? p.call.estimatedPromptTokens, completionTokens: max(tokens, usage?.completionTokens ?? 0), estimated: usage == nil)
        let cost = CostCalculator.microUSD(final, prices: prices)
        let elapsed = ContinuousClock.now - p.start
        metrics.duration.labels(served.model).observe(elapsed)
        var response: JSONValue?
        if p.call.cacheable && keepText && failure == nil && !clientGone {
            // Built by the gateway, so always valid JSON: the hand parser reads it.
            response = JSONReader.parse(ChunkEncoder.completion(
                id: ChunkEncoder.newID(), created: Int(WallClock.nowSeconds), model: served.model, text: text,
                finishReason: finishReason ?? "stop", usage: final))
        }
        await ticket.finish(InferenceOutcome(
            deployment: d.config.id, usage: final, costMicroUSD: cost, response: response,
            errorType: failure.map { $0.code ?? $0.type } ?? (clientGone ? "client_disconnected" : nil), timeToFirstToken: firstAt,
            duration: elapsed))
        return Pumped(
            usage: final, cost: cost, estimated: final.estimated, text: text, finishReason: finishReason, failure: failure,
            clientGone: clientGone)
    }
}
