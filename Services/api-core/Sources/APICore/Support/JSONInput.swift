import BulkheadHTTP
import Foundation
import Shared

/// Request bodies read as a `JSONValue` tree, so validation can name the exact field at fault
/// (Codable's errors cannot say "metadata.team must be a string" in the client's terms).
enum JSONInput {
    /// The body as a JSON object.
    /// - Throws: 400 `invalid_json` when it is empty, not JSON, or not an object.
    static func object(_ body: [UInt8]) throws(HTTPError) -> [String: JSONValue] {
        guard case .object(let o) = try value(body) else {
            throw HTTPError.badRequest("The body must be a JSON object.", code: "invalid_json")
        }
        return o
    }

    /// The body as any JSON value.
    /// - Throws: 400 `invalid_json` when it is empty or not JSON.
    static func value(_ body: [UInt8]) throws(HTTPError) -> JSONValue {
        guard !body.isEmpty else { throw HTTPError.badRequest("The request needs a JSON body.", code: "invalid_json") }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw HTTPError.badRequest("The body is not valid JSON.", code: "invalid_json")
        }
    }

    /// Nesting depth: scalars 0, `{}`/`[]` 1, `{"a":{}}` 2.
    static func depth(_ value: JSONValue) -> Int {
        switch value {
        case .object(let o): 1 + (o.values.map(depth).max() ?? 0)
        case .array(let a): 1 + (a.map(depth).max() ?? 0)
        default: 0
        }
    }

    /// Canonical text (sorted keys), for hashing and storage.
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? Array(encoder.encode(value))) ?? Array("null".utf8)
    }

    static func text(_ value: some Encodable) -> String { String(decoding: encode(value), as: UTF8.self) }

    /// Parses stored JSON text back into a value (nil when absent or unreadable).
    static func parse(_ text: String?) -> JSONValue? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    /// 422 with a code and a message naming the field.
    static func invalid(_ field: String, _ message: String, code: String = "invalid_field") -> HTTPError {
        HTTPError(.unprocessableContent, code: code, message: "Field '\(field)' \(message)")
    }

    /// A JSON response.
    static func response(_ value: JSONValue, status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        .json(bytes: encode(value), status: status, headers: headers)
    }
}
