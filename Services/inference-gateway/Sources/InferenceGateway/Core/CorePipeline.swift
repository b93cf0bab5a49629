import Foundation
import Shared

/// The pipeline the job worker uses: the same path as the HTTP routes (validation, hooks,
/// cache, routing, retries, fallbacks, providers, cost), without HTTP.
struct CorePipeline: InferencePipeline {
    let chat: ChatService
    let embeddings: EmbeddingsService

    func chat(_ request: JSONValue, caller: Caller, onDelta: @escaping @Sendable (String) async -> Void) async throws -> PipelineResult {
        var body = request
        if case .object(var o) = body {
            // The pipeline always streams upstream so deltas reach `onDelta` as they arrive.
            o["stream"] = .bool(true)
            o.removeValue(forKey: "stream_options")
            body = .object(o)
        }
        let start = ContinuousClock.now
        let prepared = try chat.prepare(try ChatRequest.from(body), caller: caller, bypassHeader: false, start: start)
        let ticket = try await chat.hooks.admit(prepared.call)
        if prepared.call.cacheable, let hit = await chat.hooks.lookup(prepared.call) {
            await ticket.finish(InferenceOutcome(
                deployment: "", usage: hit.usage ?? TokenUsage(promptTokens: 0, completionTokens: 0), costMicroUSD: 0, cache: hit,
                timeToFirstToken: .now - start, duration: .now - start))
            if let text = hit.response["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue { await onDelta(text) }
            return PipelineResult(
                response: hit.response, usage: hit.usage ?? TokenUsage(promptTokens: 0, completionTokens: 0), costMicroUSD: 0,
                savedCostMicroUSD: hit.savedCostMicroUSD, cache: hit.kind, deployment: "", firstTokenAt: Self.nowMillis)
        }
        let served: Dispatcher.Served<ChatService.Started>
        do { served = try await chat.start(prepared) } catch {
            await ticket.finish(InferenceOutcome(
                deployment: "", usage: TokenUsage(promptTokens: 0, completionTokens: 0), costMicroUSD: 0, errorType: error.code ?? error.type,
                duration: .now - start))
            throw error
        }
        let firstTokenAt = Self.nowMillis
        let result = await chat.pump(prepared, served: served, ticket: ticket, keepText: true) { event in
            if case .delta(let content?, _, _) = event, !content.isEmpty { await onDelta(content) }
        }
        if result.clientGone || Task.isCancelled { throw Dispatcher.cancelled }
        if let failure = result.failure { throw failure }
        let body2 = ChunkEncoder.completion(
            id: ChunkEncoder.newID(), created: Int(WallClock.nowSeconds), model: served.model, text: result.text,
            finishReason: result.finishReason ?? "stop", usage: result.usage)
        let response = (try? JSONDecoder().decode(JSONValue.self, from: Data(body2))) ?? .null
        return PipelineResult(
            response: response, usage: result.usage, costMicroUSD: result.cost, deployment: served.deployment.config.id,
            firstTokenAt: firstTokenAt)
    }

    func embeddings(_ request: JSONValue, caller: Caller) async throws -> PipelineResult {
        do {
            let bytes = [UInt8](try JSONEncoder().encode(request))
            let body = try EmbeddingsRoutes.decode(bytes)
            let done = try await embeddings.embed(body, caller: caller)
            let response = (try? JSONDecoder().decode(JSONValue.self, from: Data(done.body))) ?? .null
            return PipelineResult(response: response, usage: done.usage, costMicroUSD: done.cost, deployment: done.deployment)
        } catch let error as OpenAIError {
            throw error.gatewayError
        }
    }

    static var nowMillis: Int64 { Int64(WallClock.nowSeconds * 1000) }
}
