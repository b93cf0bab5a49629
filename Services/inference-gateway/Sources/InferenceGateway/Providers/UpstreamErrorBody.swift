import BulkheadHTTP
import Foundation
import Shared

/// Reads the error bodies of OpenAI-compatible servers into one shape:
/// OpenAI and llama.cpp `{"error":{"message","type","code"}}`, vLLM `{"object":"error","message","type","code"}`,
/// TGI `{"error":"...","error_type":"..."}`, Ollama `{"error":"..."}`, Anthropic `{"type":"error","error":{"type","message"}}`.
struct UpstreamErrorBody {
    var message: String
    var type: String?
    var code: String?

    init(_ bytes: [UInt8], status: Int) {
        let value = try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        var message: String?
        var type: String?
        var code: String?
        if let error = value?["error"] {
            if let s = error.stringValue { message = s } else {
                message = error["message"]?.stringValue
                type = error["type"]?.stringValue
                code = Self.text(error["code"])
            }
        }
        if message == nil { message = value?["message"]?.stringValue ?? value?["detail"]?.stringValue }
        if type == nil { type = value?["error_type"]?.stringValue ?? (value?["object"]?.stringValue == "error" ? value?["type"]?.stringValue : nil) }
        if code == nil { code = Self.text(value?["code"]) }
        if message == nil {
            let text = String(decoding: bytes.prefix(500), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            message = text.isEmpty ? "HTTP \(status)" : text
        }
        self.message = message ?? "HTTP \(status)"
        self.type = type
        self.code = code
    }

    private static func text(_ v: JSONValue?) -> String? {
        switch v {
        case .string(let s)?: return s
        case .number(let n)?: return String(Int(n))
        default: return nil
        }
    }

    /// Whether the upstream said the prompt does not fit its context window.
    var contextExceeded: Bool {
        if code == "context_length_exceeded" { return true }
        let m = message.lowercased()
        return m.contains("maximum context length") || m.contains("context length") || m.contains("context window")
            || m.contains("prompt is too long") || m.contains("too many tokens")
    }

    /// The classified failure for an error status.
    func failure(status: Int, headers: HTTPHeaders) -> ProviderError {
        ProviderError.status(
            status, message: message, type: type.map(Self.openAIType), code: code, retryAfter: ProviderError.retryAfter(headers),
            contextExceeded: (400...499).contains(status) && status != 429 && contextExceeded)
    }

    /// OpenAI-style `type` for the error types other servers use.
    static func openAIType(_ t: String) -> String {
        switch t {
        case "invalid_request_error", "authentication_error", "permission_error", "not_found_error", "rate_limit_error",
            "api_error", "overloaded_error", "server_error":
            return t
        case "BadRequestError", "validation": return "invalid_request_error"
        default: return t
        }
    }
}

