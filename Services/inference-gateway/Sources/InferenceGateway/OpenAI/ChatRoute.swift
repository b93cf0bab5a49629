import BulkheadHTTP
import Foundation
import Shared

/// `POST /v1/chat/completions`: OpenAI's chat API, streamed or not, over the chat service.
struct ChatRoute: Sendable {
    let service: ChatService

    func register(on router: inout Router) {
        let service = service
        router.post("/v1/chat/completions", bodyLimit: service.settings.chatBodyLimit) { request, context in
            await Self.handle(request, context: context, service: service)
        }
    }

    static func caller(_ context: RequestContext) -> Caller {
        Caller(
            principal: context.principal ?? Principal(kind: .service, subject: "anonymous", tenant: ""),
            requestID: context.requestID, traceparent: context.trace.traceparentValue)
    }

    static func handle(_ request: HTTPRequest, context: RequestContext, service: ChatService) async -> HTTPResponse {
        let start = ContinuousClock.now
        let prepared: ChatService.Prepared
        let ticket: any InferenceTicket
        do {
            let chat = try ChatRequest.decode(request.body)
            let bypass = request.headers.first("x-bulkhead-cache")?.lowercased() == "bypass"
            prepared = try service.prepare(chat, caller: caller(context), bypassHeader: bypass, start: start)
            ticket = try await service.hooks.admit(prepared.call)
        } catch let error as GatewayError {
            return error.response
        } catch {
            return GatewayError(status: .internalServerError, message: "The request could not be admitted.", type: "api_error").response
        }
        var headers = HTTPHeaders(ticket.responseHeaders)
        if prepared.call.cacheable {
            if let hit = await service.hooks.lookup(prepared.call) {
                return await cacheHit(hit, prepared: prepared, ticket: ticket, headers: headers)
            }
            headers.add(name: "x-cache", value: "miss")
        } else {
            headers.add(name: "x-cache", value: "bypass")
        }
        if prepared.chat.stream { return await stream(prepared, ticket: ticket, headers: headers, service: service) }
        do {
            let done = try await service.complete(prepared, ticket: ticket)
            headers.add(name: "x-bulkhead-cost-micro-usd", value: String(done.cost))
            headers.add(name: "x-bulkhead-cost-estimated", value: done.usage.estimated ? "true" : "false")
            headers.add(name: "x-bulkhead-deployment", value: done.deployment)
            return .json(bytes: done.body, headers: headers)
        } catch {
            return error.response.adding(headers.map { ($0.name, $0.value) })
        }
    }

    static func stream(_ p: ChatService.Prepared, ticket: any InferenceTicket, headers: HTTPHeaders, service: ChatService) async -> HTTPResponse {
        let served: Dispatcher.Served<ChatService.Started>
        do { served = try await service.start(p) } catch {
            await ticket.finish(InferenceOutcome(
                deployment: "", usage: TokenUsage(promptTokens: 0, completionTokens: 0), costMicroUSD: 0, errorType: error.code ?? error.type,
                duration: .now - p.start))
            return error.response.adding(headers.map { ($0.name, $0.value) })
        }
        var h = headers
        h.replaceOrAdd(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        h.replaceOrAdd(name: "Cache-Control", value: "no-cache")
        h.replaceOrAdd(name: "X-Accel-Buffering", value: "no")
        h.add(name: "x-bulkhead-deployment", value: served.deployment.config.id)
        // The cost is known only at the end: the headers carry the reservation, the final usage chunk the cost.
        h.add(name: "x-bulkhead-cost-reserved-micro-usd", value: String(p.call.reserveCostMicroUSD))
        let encoder = ChunkEncoder(id: ChunkEncoder.newID(), created: Int(WallClock.nowSeconds), model: served.model, includeUsage: p.chat.includeUsage)
        // No disconnect watch of our own: when the client goes away the server closes the
        // connection and cancels this handler's task, which cancels the upstream read.
        return .stream(headers: h) { writer in
            await pumpToClient(p, served: served, ticket: ticket, encoder: encoder, writer: writer, service: service)
        }
    }

    static func pumpToClient(
        _ p: ChatService.Prepared, served: Dispatcher.Served<ChatService.Started>, ticket: any InferenceTicket, encoder: ChunkEncoder,
        writer: HTTPBodyWriter, service: ChatService
    ) async {
        var roleSent = false
        // Chunks are encoded into one buffer and written when the pump is about to wait for the
        // upstream (and at the end with the tail): one write, one syscall per upstream read
        // instead of one per token, with no added delay.
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        let result = await service.pump(p, served: served, ticket: ticket, keepText: p.call.cacheable) { event in
            guard case .delta(let content, let tools, let finish) = event else { return }
            encoder.chunk(into: &out, role: !roleSent, content: content, toolCalls: tools, finishReason: finish)
            roleSent = true
        } flush: {
            if out.isEmpty { return }
            defer { out.removeAll(keepingCapacity: true) }
            try await writer.write(out)
        }
        if result.clientGone { return }
        if let failure = result.failure {
            out += ChunkEncoder.errorLine(failure)
        } else {
            if !roleSent { encoder.chunk(into: &out, role: true, content: nil, toolCalls: nil, finishReason: result.finishReason ?? "stop") }
            if p.chat.includeUsage {
                out += encoder.usageChunk(
                    result.usage, cost: result.cost, estimated: result.estimated, deployment: served.deployment.config.id, cache: nil)
            }
            out += ChunkEncoder.done
        }
        try? await writer.write(out)
    }

    /// Answers from the cache: the stored completion as JSON, or as chunks when a stream was asked for.
    static func cacheHit(_ hit: CachedAnswer, prepared p: ChatService.Prepared, ticket: any InferenceTicket, headers: HTTPHeaders) async -> HTTPResponse {
        var h = headers
        h.add(name: "x-cache", value: hit.kind)
        h.add(name: "x-cache-similarity", value: String(format: "%.4f", hit.similarity))
        h.add(name: "x-bulkhead-cost-micro-usd", value: "0")
        h.add(name: "x-bulkhead-cost-estimated", value: "false")
        h.add(name: "x-bulkhead-deployment", value: "cache")
        let usage = hit.usage ?? TokenUsage(promptTokens: 0, completionTokens: 0)
        await ticket.finish(InferenceOutcome(
            deployment: "", usage: usage, costMicroUSD: 0, cache: hit, timeToFirstToken: .now - p.start, duration: .now - p.start))
        if !p.chat.stream {
            let bytes = (try? JSONEncoder().encode(hit.response)).map { [UInt8]($0) } ?? []
            return .json(bytes: bytes, headers: h)
        }
        let choice = hit.response["choices"]?.arrayValue?.first
        let text = choice?["message"]?["content"]?.stringValue ?? ""
        let finish = choice?["finish_reason"]?.stringValue ?? "stop"
        let encoder = ChunkEncoder(
            id: hit.response["id"]?.stringValue ?? ChunkEncoder.newID(), created: Int(WallClock.nowSeconds), model: p.chat.model,
            includeUsage: p.chat.includeUsage)
        var body = encoder.chunk(role: true, content: text, toolCalls: nil, finishReason: finish)
        if p.chat.includeUsage { body += encoder.usageChunk(usage, cost: 0, estimated: false, deployment: "cache", cache: hit.kind) }
        body += ChunkEncoder.done
        h.replaceOrAdd(name: "Content-Type", value: "text/event-stream; charset=utf-8")
        h.replaceOrAdd(name: "Cache-Control", value: "no-cache")
        return HTTPResponse(status: .ok, headers: h, body: .bytes(body))
    }
}
