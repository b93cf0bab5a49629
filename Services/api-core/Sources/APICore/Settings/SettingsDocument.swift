import BulkheadHTTP
import Shared

/// The rules of a settings document: a JSON object, at most `maximumBytes` serialized and
/// `maximumDepth` levels deep; PATCH is JSON Merge Patch (RFC 7396).
enum SettingsDocument {
    static let maximumBytes = 16 * 1024
    static let maximumDepth = 8

    /// Checks a whole document and returns its canonical text.
    /// - Throws: 422 `invalid_settings` (not an object), `settings_too_deep`; 413 `settings_too_large`.
    static func validate(_ value: JSONValue) throws(HTTPError) -> String {
        guard case .object = value else {
            throw HTTPError(.unprocessableContent, code: "invalid_settings", message: "Settings must be a JSON object.")
        }
        let depth = JSONInput.depth(value)
        guard depth <= maximumDepth else {
            throw HTTPError(
                .unprocessableContent, code: "settings_too_deep",
                message: "Settings may nest at most \(maximumDepth) levels; this document has \(depth).")
        }
        let text = JSONInput.text(value)
        guard text.utf8.count <= maximumBytes else {
            throw HTTPError(
                .payloadTooLarge, code: "settings_too_large",
                message: "Settings are limited to \(maximumBytes) bytes serialized; this document has \(text.utf8.count).")
        }
        return text
    }

    /// RFC 7396: members set to null are removed, objects merge recursively, anything else replaces.
    static func mergePatch(_ target: JSONValue, _ patch: JSONValue) -> JSONValue {
        guard case .object(let p) = patch else { return patch }
        var result: [String: JSONValue]
        if case .object(let t) = target { result = t } else { result = [:] }
        for (key, value) in p {
            if value == .null {
                result.removeValue(forKey: key)
            } else {
                result[key] = mergePatch(result[key] ?? .null, value)
            }
        }
        return .object(result)
    }
}
