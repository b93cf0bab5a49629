import Foundation

/// Turns Foundation's `DecodingError` for a request body into the error a client can act on:
/// bad JSON is 400 `invalid_json`; a missing, unknown or mistyped field is 422 naming it by path
/// (`items[2].name`). Services decode strict Codable bodies and throw `httpError(for:)`.
public enum DecodingErrors {
    /// The `debugDescription` of the `DecodingError` that `Decoder.rejectUnknownKeys` throws.
    public static let unknownFieldMarker = "unknown field"

    /// 400 or 422 for `error`; `code(path)` picks the code of a mistyped field (default
    /// `invalid_field`), so a service can name its own (`invalid_vector`).
    public static func httpError(for error: DecodingError, mistypedCode code: (String) -> String = { _ in "invalid_field" }) -> HTTPError {
        switch error {
        case .keyNotFound(let key, let ctx):
            return HTTPError(.unprocessableContent, code: "missing_field", message: "Field '\(path(ctx.codingPath + [key]))' is required.")
        case .typeMismatch(let type, let ctx), .valueNotFound(let type, let ctx):
            let field = path(ctx.codingPath)
            return HTTPError(.unprocessableContent, code: code(field), message: "Field '\(field)' must be \(readable(type)).")
        case .dataCorrupted(let ctx):
            if ctx.debugDescription == unknownFieldMarker {
                return HTTPError(.unprocessableContent, code: "unknown_field", message: "Unknown field '\(path(ctx.codingPath))'.")
            }
            if ctx.codingPath.isEmpty {
                return HTTPError(.badRequest, code: "invalid_json", message: "Request body is not valid JSON.")
            }
            return HTTPError(.unprocessableContent, code: "invalid_field", message: "Field '\(path(ctx.codingPath))' is invalid: \(ctx.debugDescription)")
        @unknown default:
            return HTTPError(.badRequest, code: "invalid_json", message: "Request body is not valid JSON.")
        }
    }

    /// `a.b[2].c` for a coding path.
    public static func path(_ p: [any CodingKey]) -> String {
        p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func readable(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "a boolean"
        case is [Any].Type: return "an array"
        default: return "of the documented type"
        }
    }
}

/// Any key, to read or reject fields by name.
public struct AnyCodingKey: CodingKey {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws a `DecodingError` naming the first field not in `allowed` (mapped to 422
    /// `unknown_field` by `DecodingErrors`).
    public func rejectUnknownKeys(_ allowed: Set<String>) throws {
        let c = try container(keyedBy: AnyCodingKey.self)
        for k in c.allKeys where !allowed.contains(k.stringValue) {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [k], debugDescription: DecodingErrors.unknownFieldMarker))
        }
    }
}
