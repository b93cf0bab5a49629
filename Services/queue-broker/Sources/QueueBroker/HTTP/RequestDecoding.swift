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
            throw DecodingErrors.httpError(for: error)
        }
    }
}
