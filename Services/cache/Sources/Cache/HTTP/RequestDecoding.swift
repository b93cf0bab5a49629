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
            throw DecodingErrors.httpError(for: error) { $0.hasPrefix("vector") ? "invalid_vector" : "invalid_field" }
        }
    }
}

/// A request body that may carry a vector (for the NaN/Infinity diagnosis above).
protocol VectorCarrying {
    var vectorValues: [Double]? { get }
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
