import Foundation
import Shared
import Synchronization

/// Writes OpenAI `chat.completion.chunk` SSE lines and `chat.completion` objects by hand
/// (the streaming hot path: no encoder, no dictionaries).
struct ChunkEncoder {
    let id: String
    let created: Int
    let model: String
    /// With `stream_options.include_usage`: `"usage":null` on every chunk and a final usage chunk.
    let includeUsage: Bool

    /// One `data: {chunk}\n\n` line. The first chunk of a stream carries `role: "assistant"`.
    func chunk(role: Bool, content: String?, toolCalls: JSONValue?, finishReason: String?) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(160 + (content?.utf8.count ?? 0) + model.utf8.count)
        chunk(into: &bytes, role: role, content: content, toolCalls: toolCalls, finishReason: finishReason)
        return bytes
    }

    /// Appends one chunk line to `bytes` (the stream path batches several into one write).
    func chunk(into bytes: inout [UInt8], role: Bool, content: String?, toolCalls: JSONValue?, finishReason: String?) {
        var w = JSONWriter(taking: &bytes)
        defer { bytes = w.bytes }
        w.raw("data: ")
        header(&w)
        w.raw(#","choices":[{"index":0,"delta":{"#)
        var first = true
        if role { w.raw(#""role":"assistant""#); first = false }
        if let content {
            if !first { w.raw(",") }
            w.raw(#""content":"#); w.string(content); first = false
        } else if role {
            w.raw(#","content":"""#)
        }
        if let toolCalls, let encoded = try? JSONEncoder().encode(toolCalls) {
            if !first { w.raw(",") }
            w.raw(#""tool_calls":"#); w.bytes.append(contentsOf: encoded)
        }
        w.raw(#"},"logprobs":null,"finish_reason":"#)
        w.optionalString(finishReason)
        w.raw("}]")
        if includeUsage { w.raw(#","usage":null"#) }
        w.raw("}\n\n")
    }

    /// The final usage chunk (`choices: []`), with the gateway's cost in `x_bulkhead`
    /// (response headers are sent before the body, so a stream's cost travels here).
    func usageChunk(_ usage: TokenUsage, cost: Int64, estimated: Bool, deployment: String, cache: String?) -> [UInt8] {
        var w = JSONWriter(capacity: 320)
        w.raw("data: ")
        header(&w)
        w.raw(#","choices":[],"#)
        Self.usage(&w, usage)
        Self.extras(&w, cost: cost, estimated: estimated, deployment: deployment, cache: cache)
        w.raw("}\n\n")
        return w.bytes
    }

    static let done: [UInt8] = Array("data: [DONE]\n\n".utf8)

    /// `data: {"error":{...}}\n\n`: how a stream that fails after its first token ends (then the connection closes, no `[DONE]`).
    static func errorLine(_ error: GatewayError) -> [UInt8] {
        var w = JSONWriter(capacity: 200)
        w.raw(#"data: {"error":{"message":"#); w.string(error.message)
        w.raw(#","type":"#); w.string(error.type)
        w.raw(#","param":"#); w.optionalString(error.param)
        w.raw(#","code":"#); w.optionalString(error.code)
        w.raw("}}\n\n")
        return w.bytes
    }

    private func header(_ w: inout JSONWriter) {
        w.raw(#"{"id":"#); w.string(id)
        w.raw(#","object":"chat.completion.chunk","created":"#); w.int(created)
        w.raw(#","model":"#); w.string(model)
        w.raw(#","system_fingerprint":null"#)
    }

    /// `"usage":{...}` in OpenAI's shape (cached tokens under `prompt_tokens_details`).
    static func usage(_ w: inout JSONWriter, _ u: TokenUsage) {
        w.raw(#""usage":{"prompt_tokens":"#); w.int(u.promptTokens)
        w.raw(#","completion_tokens":"#); w.int(u.completionTokens)
        w.raw(#","total_tokens":"#); w.int(u.promptTokens + u.completionTokens)
        w.raw(#","prompt_tokens_details":{"cached_tokens":"#); w.int(u.cachedPromptTokens)
        w.raw("}}")
    }

    static func extras(_ w: inout JSONWriter, cost: Int64, estimated: Bool, deployment: String, cache: String?) {
        w.raw(#","x_bulkhead":{"cost_micro_usd":"#); w.int(cost)
        w.raw(#","cost_estimated":"#); w.raw(estimated ? "true" : "false")
        w.raw(#","deployment":"#); w.string(deployment)
        if let cache { w.raw(#","cache":"#); w.string(cache) }
        w.raw("}")
    }

    /// A whole `chat.completion` object for one choice.
    static func completion(id: String, created: Int, model: String, text: String, finishReason: String, usage: TokenUsage) -> [UInt8] {
        var w = JSONWriter(capacity: 256 + text.utf8.count)
        w.raw(#"{"id":"#); w.string(id)
        w.raw(#","object":"chat.completion","created":"#); w.int(created)
        w.raw(#","model":"#); w.string(model)
        w.raw(#","choices":[{"index":0,"message":{"role":"assistant","content":"#); w.string(text)
        w.raw(#","refusal":null},"logprobs":null,"finish_reason":"#); w.string(finishReason)
        w.raw("}],")
        Self.usage(&w, usage)
        w.raw(#","system_fingerprint":null}"#)
        return w.bytes
    }

    /// A fresh completion id: a per-process random key and a counter, mixed (SplitMix64), so ids
    /// look random and never repeat within a process, without two `getrandom` calls per call.
    static func newID() -> String {
        let n = idCounter.add(1, ordering: .relaxed).newValue
        let a = mix(idKey.0 &+ n)
        let b = mix(idKey.1 ^ n)
        return "chatcmpl-" + String(a, radix: 36) + String(b, radix: 36)
    }

    private static let idKey: (UInt64, UInt64) = {
        var g = SystemRandomNumberGenerator()
        return (g.next(), g.next())
    }()
    private static let idCounter = Atomic<UInt64>(0)

    private static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
