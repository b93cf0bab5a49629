import BulkheadHTTP
import Foundation

/// Decodes request bodies and maps failures to clear JSON errors.
enum RequestDecoding {
    /// Decodes `T`; bad JSON is 400 `invalid_json`, a missing/unknown/mistyped field is 422 naming it.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8], emptyAs empty: T? = nil) throws -> T {
        if body.isEmpty, let empty { return empty }
        do {
            return try JSONCoding.decoder.decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw describe(error)
        }
    }

    static func path(_ p: [any CodingKey]) -> String {
        p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ error: DecodingError) -> HTTPError {
        switch error {
        case .keyNotFound(let key, let ctx):
            let field = path(ctx.codingPath + [key])
            return HTTPError(.unprocessableContent, code: "missing_field", message: "Field '\(field)' is required.")
        case .typeMismatch(let type, let ctx), .valueNotFound(let type, let ctx):
            return HTTPError(.unprocessableContent, code: "invalid_field", message: "Field '\(path(ctx.codingPath))' must be \(readable(type)).")
        case .dataCorrupted(let ctx):
            if ctx.debugDescription == "unknown field" {
                return HTTPError(.unprocessableContent, code: "unknown_field", message: "Unknown field '\(path(ctx.codingPath))'.")
            }
            if ctx.codingPath.isEmpty {
                return HTTPError(.badRequest, code: "invalid_json", message: "Request body is not valid JSON.")
            }
            return HTTPError(.unprocessableContent, code: "invalid_field", message: "Field '\(path(ctx.codingPath))' is invalid.")
        @unknown default:
            return HTTPError(.badRequest, code: "invalid_json", message: "Request body is not valid JSON.")
        }
    }

    static func readable(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        case is [Any].Type: return "an array"
        default: return "an object of the right shape"
        }
    }
}
