import BulkheadHTTP
import Foundation

/// Decodes request bodies and maps failures to clear JSON errors: bad JSON is 400
/// `invalid_json`; a missing, unknown or mistyped field is 422 naming it; a vector holding
/// `NaN`/`Infinity` (which strict JSON cannot carry, but clients such as Python's `json`
/// emit) is 422 `invalid_vector`.
enum RequestDecoding {
    static let strict = JSONDecoder()
    static let lenient: JSONDecoder = {
        let d = JSONDecoder()
        d.allowsJSON5 = true
        return d
    }()

    static func decode<T: Decodable & VectorCarrying>(_ type: T.Type, from body: [UInt8]) throws -> T {
        guard !body.isEmpty else { throw HTTPError(.badRequest, code: "invalid_json", message: "The request needs a JSON body.") }
        let data = Data(body)
        do {
            return try strict.decode(T.self, from: data)
        } catch let error as DecodingError {
            // Only to name the problem better: a lenient parse that finds a non-finite vector.
            if case .dataCorrupted(let ctx) = error, ctx.codingPath.isEmpty,
                let loose = try? lenient.decode(T.self, from: data), let bad = loose.vectorValues?.firstIndex(where: { !$0.isFinite })
            {
                throw HTTPError(
                    .unprocessableContent, code: "invalid_vector",
                    message: "'vector[\(bad)]' is not a finite number (NaN and Infinity are not allowed).")
            }
            throw describe(error)
        }
    }

    static func path(_ p: [any CodingKey]) -> String {
        p.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func describe(_ error: DecodingError) -> HTTPError {
        switch error {
        case .keyNotFound(let key, let ctx):
            return HTTPError(.unprocessableContent, code: "missing_field", message: "Field '\(path(ctx.codingPath + [key]))' is required.")
        case .typeMismatch(let type, let ctx), .valueNotFound(let type, let ctx):
            let field = path(ctx.codingPath)
            let code = field.hasPrefix("vector") ? "invalid_vector" : "invalid_field"
            return HTTPError(.unprocessableContent, code: code, message: "Field '\(field)' must be \(readable(type)).")
        case .dataCorrupted(let ctx):
            if ctx.debugDescription == "unknown field" {
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

    static func readable(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "a boolean"
        default: return "of the documented type"
        }
    }
}

/// A request body that may carry a vector (for the NaN/Infinity diagnosis above).
protocol VectorCarrying {
    var vectorValues: [Double]? { get }
}

/// Any key, to reject unknown fields by name.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension Decoder {
    /// Throws a `DecodingError` naming the first field not in `allowed`.
    func rejectUnknownKeys(_ allowed: Set<String>) throws {
        let c = try container(keyedBy: AnyKey.self)
        for k in c.allKeys where !allowed.contains(k.stringValue) {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [k], debugDescription: "unknown field"))
        }
    }
}

extension KeyedDecodingContainer {
    /// An integer field. JSON numbers are read as Double first so that `1.5` is reported as
    /// "must be an integer" naming the field (Foundation reports it as invalid JSON otherwise).
    func integer(_ key: Key) throws -> Int? {
        guard let d = try decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard d == d.rounded() else {
            throw DecodingError.typeMismatch(Int.self, .init(codingPath: codingPath + [key], debugDescription: "not an integer"))
        }
        // Numbers are read as Double: beyond 2^53 they are no longer exact, so they are refused.
        guard abs(d) <= 9_007_199_254_740_992 else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: codingPath + [key], debugDescription: "integers are accepted up to 2^53 (9007199254740992) in magnitude"))
        }
        return Int(d)
    }

    func requiredInteger(_ key: Key) throws -> Int {
        guard let v = try integer(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "missing"))
        }
        return v
    }
}
