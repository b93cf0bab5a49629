import BulkheadHTTP
import BulkheadHTTPClient
import Foundation
import Shared

/// Embeddings through the catalog, the hooks and the dispatcher (retries, fallbacks, breakers).
final class EmbeddingsService: Sendable {
    let store: CatalogStore
    let hooks: any InferenceHooks
    let dispatcher: Dispatcher
    let local: LocalProvider
    let clients: UpstreamClients

    init(store: CatalogStore, hooks: any InferenceHooks, dispatcher: Dispatcher, local: LocalProvider, clients: UpstreamClients) {
        self.store = store; self.hooks = hooks; self.dispatcher = dispatcher; self.local = local; self.clients = clients
    }

    struct Done: Sendable {
        var body: [UInt8]
        var headers: HTTPHeaders
        var usage: TokenUsage
        var cost: Int64
        var deployment: String
    }

    func embed(_ body: EmbeddingsRequest, caller: Caller) async throws -> Done {
        let start = ContinuousClock.now
        let snapshot = store.current
        guard let route = snapshot.route(body.model), route.config.kind == .embeddings else {
            let names = snapshot.catalog.models.filter { $0.kind == .embeddings }.map(\.name).joined(separator: ", ")
            throw OpenAIError(
                status: .notFound, message: "The model '\(body.model)' does not exist. Embedding models: \(names).",
                type: "invalid_request_error", param: "model", code: "model_not_found")
        }
        try EmbeddingsRoutes.validate(body)
        let chain = snapshot.chain(body.model)
        var tokens = 0
        for text in body.input { tokens += TokenEstimator.count(text) }
        var reserve: Int64 = 0
        for r in chain { for d in r.deployments { reserve = max(reserve, CostCalculator.reserve(promptTokens: tokens, maxCompletionTokens: 0, prices: d.config.prices)) } }
        let call = InferenceCall(
            caller: caller, kind: .embeddings, model: body.model, stream: false, estimatedPromptTokens: tokens, maxCompletionTokens: 0,
            reserveCostMicroUSD: reserve, cacheable: false, cacheNamespace: "", exactKey: "", semanticText: "")
        let ticket = try await hooks.admit(call)
        let served: Dispatcher.Served<(bytes: [UInt8], tokens: Int?)>
        do {
            served = try await dispatcher.run(chain: chain, requiredContext: 0) { d in
                try await self.attempt(body, deployment: d.config, caller: caller)
            }
        } catch {
            await ticket.finish(InferenceOutcome(
                deployment: "", usage: TokenUsage(promptTokens: 0, completionTokens: 0), costMicroUSD: 0, errorType: error.code ?? error.type,
                duration: .now - start))
            throw error
        }
        dispatcher.release(served.deployment)
        let usage = TokenUsage(promptTokens: served.value.tokens ?? tokens, completionTokens: 0, estimated: served.value.tokens == nil)
        let cost = CostCalculator.microUSD(usage, prices: served.deployment.config.prices)
        await ticket.finish(InferenceOutcome(
            deployment: served.deployment.config.id, usage: usage, costMicroUSD: cost, duration: .now - start))
        var headers = HTTPHeaders(ticket.responseHeaders)
        headers.add(name: "x-cache", value: "bypass")
        headers.add(name: "x-bulkhead-cost-micro-usd", value: String(cost))
        headers.add(name: "x-bulkhead-cost-estimated", value: usage.estimated ? "true" : "false")
        headers.add(name: "x-bulkhead-deployment", value: served.deployment.config.id)
        return Done(body: served.value.bytes, headers: headers, usage: usage, cost: cost, deployment: served.deployment.config.id)
    }

    private func attempt(_ body: EmbeddingsRequest, deployment d: DeploymentConfig, caller: Caller) async throws -> (bytes: [UInt8], tokens: Int?) {
        switch d.provider {
        case .local:
            guard let entry = LocalProvider.entry(d.upstreamModel) else {
                throw ProviderError(kind: .status4xx, error: GatewayError(status: .internalServerError, message: "Unknown local model.", type: "api_error"))
            }
            let r = try await EmbeddingsRoutes.local(body, entry: entry, publicModel: d.model, provider: local)
            return (r.bytes, r.tokens)
        case .openai:
            var fields: [String: JSONValue] = ["model": .string(d.upstreamModel), "input": .array(body.input.map { .string($0) })]
            if let f = body.encodingFormat { fields["encoding_format"] = .string(f) }
            if let n = body.dimensions { fields["dimensions"] = .number(Double(n)) }
            if let u = body.user { fields["user"] = .string(u) }
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/json")
            if let key = d.apiKey { headers.add(name: "Authorization", value: "Bearer \(key)") }
            let request = HTTPClientRequest(
                method: .post, url: d.baseURL + "/embeddings", headers: headers, body: [UInt8](try JSONEncoder().encode(fields)),
                traceparent: caller.traceparent)
            let response = try await clients.send(request, to: d)
            let bytes: [UInt8]
            do { bytes = try await response.body.collect(upTo: 64 << 20) } catch { throw ProviderError.transport(error, deployment: d.id) }
            struct Summary: Decodable { var usage: OpenAIUsageLite? }
            struct OpenAIUsageLite: Decodable { var prompt_tokens: Int? }
            let tokens = (try? JSONDecoder().decode(Summary.self, from: Data(bytes)))?.usage?.prompt_tokens
            return (bytes, tokens)
        case .anthropic, .simulator:
            throw ProviderError(kind: .status4xx, error: .invalid("'\(d.model)' cannot embed.", param: "model"))
        }
    }
}
