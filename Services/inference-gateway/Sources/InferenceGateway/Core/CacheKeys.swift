import BulkheadCrypto
import Foundation
import Shared

/// Cacheability and cache keys of a chat call.
enum CacheKeys {
    /// Members that do not change the answer (transport, accounting, gateway-only).
    static let ignored: Set<String> = ["stream", "stream_options", "user", "metadata", "store", "bulkhead_cache", "service_tier"]

    /// Whether a call may be answered from / stored in the cache: enabled, the model allows it,
    /// temperature at or below the threshold (absent counts as 1, OpenAI's default), no tools,
    /// one choice, and no bypass (`bulkhead_cache: false` or header `x-bulkhead-cache: bypass`).
    static func cacheable(_ chat: ChatRequest, model: ModelConfig, settings: CoreSettings, bypassHeader: Bool) -> Bool {
        settings.cacheEnabled && model.cacheable && !bypassHeader && !chat.cacheBypass && !chat.hasTools && chat.n == 1
            && (chat.temperature ?? 1) <= settings.cacheMaxTemperature
    }

    /// (namespace, exact key): the namespace covers the model and every answer-changing parameter
    /// but the messages; the exact key covers them all, messages included.
    static func keys(_ chat: ChatRequest, model: String) -> (namespace: String, exact: String) {
        var params = chat.fields.filter { !ignored.contains($0.key) }
        params["model"] = .string(model)
        let messages = params.removeValue(forKey: "messages") ?? .null
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let paramBytes = (try? encoder.encode(params)) ?? Data()
        params["messages"] = messages
        let allBytes = (try? encoder.encode(params)) ?? Data()
        let safeModel = String(model.unicodeScalars.map { s -> Character in
            let c = Character(s)
            return c.isLetter && s.isASCII || c.isNumber && s.isASCII || c == "-" || c == "_" ? c : "_"
        })
        let namespace = safeModel + "." + String(Hex.encode(SHA256.hash(paramBytes)).prefix(16))
        return (namespace, Hex.encode(SHA256.hash(allBytes)))
    }
}
