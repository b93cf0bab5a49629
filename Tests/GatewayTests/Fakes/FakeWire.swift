import BulkheadHTTP
import Foundation
import Shared

/// The fake upstream's bodies in OpenAI's and Anthropic's exact wire formats.
enum FakeWire {
    static func json(_ value: Any) -> [UInt8] {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])).map { [UInt8]($0) } ?? []
    }

    static func openAIUsage(_ r: FakeReply) -> [String: Any] {
        ["prompt_tokens": r.promptTokens, "completion_tokens": r.completionTokens, "total_tokens": r.promptTokens + r.completionTokens,
         "prompt_tokens_details": ["cached_tokens": r.cachedTokens]]
    }

    static func openAICompletion(_ r: FakeReply) -> HTTPResponse {
        var body: [String: Any] = [
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 1_700_000_000, "model": "upstream-model",
            "choices": [["index": 0, "message": ["role": "assistant", "content": r.text], "finish_reason": r.finishReason]],
        ]
        if !r.omitUsage { body["usage"] = openAIUsage(r) }
        return .json(bytes: json(body))
    }

    static func anthropicMessage(_ r: FakeReply) -> HTTPResponse {
        let body: [String: Any] = [
            "id": "msg_fake", "type": "message", "role": "assistant", "model": "claude-fake",
            "content": [["type": "text", "text": r.text]], "stop_reason": "end_turn", "stop_sequence": NSNull(),
            "usage": ["input_tokens": r.promptTokens - r.cachedTokens, "output_tokens": r.completionTokens, "cache_read_input_tokens": r.cachedTokens,
                      "cache_creation_input_tokens": 0],
        ]
        return .json(bytes: json(body))
    }

    static func embeddings(_ request: JSONValue, reply: FakeReply) -> HTTPResponse {
        let inputs = request["input"]?.arrayValue?.count ?? 1
        let body: [String: Any] = [
            "object": "list", "model": "upstream-embed",
            "data": (0..<inputs).map { ["object": "embedding", "index": $0, "embedding": [0.1, 0.2, 0.3]] },
            "usage": ["prompt_tokens": reply.promptTokens, "total_tokens": reply.promptTokens],
        ]
        return .json(bytes: json(body))
    }

    static func sse(_ event: String?, _ value: Any) -> [UInt8] {
        var out = ""
        if let event { out += "event: \(event)\n" }
        out += "data: " + String(decoding: json(value), as: UTF8.self) + "\n\n"
        return Array(out.utf8)
    }

    /// A streamed answer; `failAfter` sends an error after n tokens, `cutAfter` closes the connection after n.
    static func stream(_ r: FakeReply, dialect: FakeUpstream.Dialect, failAfter: (Int, String)?, cutAfter: Int?) -> HTTPResponse {
        .stream(headers: ["Content-Type": "text/event-stream"]) { writer in
            if r.ttft > .zero { try await Task.sleep(for: r.ttft) }
            let limit = failAfter?.0 ?? cutAfter ?? r.tokens.count
            if dialect == .anthropic {
                try await writer.write(sse("message_start", ["type": "message_start", "message": [
                    "id": "msg_fake", "type": "message", "role": "assistant", "content": [], "model": "claude-fake", "stop_reason": NSNull(),
                    "usage": ["input_tokens": r.promptTokens - r.cachedTokens, "output_tokens": 1, "cache_read_input_tokens": r.cachedTokens],
                ]]))
                try await writer.write(sse("content_block_start", ["type": "content_block_start", "index": 0, "content_block": ["type": "text", "text": ""]]))
                try await writer.write(sse("ping", ["type": "ping"]))
                for (i, t) in r.tokens.prefix(limit).enumerated() {
                    if i > 0 && r.interTokenDelay > .zero { try await Task.sleep(for: r.interTokenDelay) }
                    try await writer.write(sse("content_block_delta", ["type": "content_block_delta", "index": 0, "delta": ["type": "text_delta", "text": t]]))
                }
                if let (_, message) = failAfter {
                    try await writer.write(sse("error", ["type": "error", "error": ["type": "overloaded_error", "message": message]]))
                    return
                }
                if cutAfter != nil { throw CancellationError() }
                try await writer.write(sse("content_block_stop", ["type": "content_block_stop", "index": 0]))
                try await writer.write(sse("message_delta", ["type": "message_delta", "delta": ["stop_reason": "end_turn", "stop_sequence": NSNull()], "usage": ["output_tokens": r.completionTokens]]))
                try await writer.write(sse("message_stop", ["type": "message_stop"]))
                return
            }
            let wantsUsage = true  // the gateway always asks for usage upstream
            func chunk(_ delta: [String: Any], finish: String?) -> [String: Any] {
                var c: [String: Any] = ["id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000, "model": "upstream-model",
                    "choices": [["index": 0, "delta": delta, "finish_reason": finish as Any? ?? NSNull()]]]
                if wantsUsage && !r.omitUsage { c["usage"] = NSNull() }
                return c
            }
            try await writer.write(sse(nil, chunk(["role": "assistant", "content": ""], finish: nil)))
            for (i, t) in r.tokens.prefix(limit).enumerated() {
                if i > 0 && r.interTokenDelay > .zero { try await Task.sleep(for: r.interTokenDelay) }
                try await writer.write(sse(nil, chunk(["content": t], finish: nil)))
            }
            if let (_, message) = failAfter {
                try await writer.write(sse(nil, ["error": ["message": message, "type": "server_error", "param": NSNull(), "code": NSNull()]]))
                return
            }
            if cutAfter != nil { throw CancellationError() }
            try await writer.write(sse(nil, chunk([:], finish: r.finishReason)))
            if !r.omitUsage {
                try await writer.write(sse(nil, ["id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
                    "model": "upstream-model", "choices": [], "usage": openAIUsage(r)]))
            }
            try await writer.write(Array("data: [DONE]\n\n".utf8))
        }
    }
}
