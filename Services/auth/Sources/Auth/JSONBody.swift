import BulkheadHTTP
import Foundation

/// A request body type that names the JSON fields it accepts (anything else is refused, so a
/// typo like `"emial"` gets a clear 422 instead of being ignored).
protocol RequestBody: Decodable {
    static var fields: Set<String> { get }
}

/// JSON in and out with snake_case keys and errors that name the problem.
enum JSONBody {
    /// Decodes `T` from the request body.
    /// - Throws: 400 `invalid_json` (not JSON, not an object), 422 `unknown_field`,
    ///   `missing_field` or `invalid_field` naming the field.
    static func decode<T: RequestBody>(_ type: T.Type, from request: HTTPRequest) throws -> T {
        guard !request.body.isEmpty else { throw HTTPError.badRequest("The request needs a JSON object body.", code: "invalid_json") }
        let data = Data(request.body)
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data, options: []) } catch {
            throw HTTPError.badRequest("The body is not valid JSON.", code: "invalid_json")
        }
        guard let dictionary = object as? [String: Any] else {
            throw HTTPError.badRequest("The body must be a JSON object.", code: "invalid_json")
        }
        if let unknown = dictionary.keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw invalid("unknown_field", "Unknown field '\(unknown.prefix(64))'; accepted: \(T.fields.sorted().joined(separator: ", ")).")
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return try decoder.decode(T.self, from: data)
        } catch let DecodingError.keyNotFound(key, context) {
            throw invalid("missing_field", "Missing field '\(path(context.codingPath + [key]))'.")
        } catch let DecodingError.valueNotFound(_, context) {
            throw invalid("invalid_field", "Field '\(path(context.codingPath))' must not be null.")
        } catch let DecodingError.typeMismatch(expected, context) {
            throw invalid("invalid_field", "Field '\(path(context.codingPath))' must be \(describe(expected)).")
        } catch let DecodingError.dataCorrupted(context) {
            throw invalid("invalid_field", "Field '\(path(context.codingPath))' is invalid.")
        }
    }

    /// A JSON response with snake_case keys.
    static func response<T: Encodable>(_ value: T, status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) throws -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return .json(bytes: Array(try encoder.encode(value)), status: status, headers: headers)
    }

    static func invalid(_ code: String, _ message: String) -> HTTPError {
        HTTPError(.unprocessableContent, code: code, message: message)
    }

    private static func path(_ keys: [any CodingKey]) -> String {
        let text = keys.map { k in k.intValue.map { "[\($0)]" } ?? snake(k.stringValue) }.joined(separator: ".")
        return text.isEmpty ? "(body)" : text.replacingOccurrences(of: ".[", with: "[")
    }

    /// `tenantName` → `tenant_name`, to name fields the way the client wrote them.
    private static func snake(_ s: String) -> String {
        var out = ""
        for c in s {
            if c.isUppercase {
                out += "_" + c.lowercased()
            } else {
                out.append(c)
            }
        }
        return out
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        case is [String].Type: "an array of strings"
        default: "of another type"
        }
    }
}
