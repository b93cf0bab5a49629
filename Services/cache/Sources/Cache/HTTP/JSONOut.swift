import BulkheadHTTP
import Foundation
import Shared

/// Hand-built JSON for the hot responses: stored response and usage bytes are spliced in as is.
enum JSONOut {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.withoutEscapingSlashes]
        return e
    }()

    static let sortedEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// Compact JSON text of `value`.
    static func bytes(_ value: JSONValue) -> [UInt8] {
        (try? encoder.encode(value)).map { Array($0) } ?? Array("null".utf8)
    }

    static func response(_ text: String, status: HTTPStatus = .ok) -> HTTPResponse {
        .json(bytes: Array(text.utf8), status: status)
    }

    static func encodable<T: Encodable>(_ value: T) -> HTTPResponse {
        .json(bytes: (try? sortedEncoder.encode(value)).map { Array($0) } ?? Array("{}".utf8))
    }

    /// A JSON number for a similarity (always finite here).
    static func number(_ d: Double) -> String {
        d.isFinite ? String(d) : "null"
    }

    /// `{"hit":true,...}` for a lookup hit.
    static func hit(kind: HitKind, similarity: Double, entry e: CacheEntry) -> HTTPResponse {
        var out = Array("{\"hit\":true,\"kind\":\"\(kind.rawValue)\",\"similarity\":\(number(similarity)),\"key\":\(JSONText.quoted(e.key)),\"response\":".utf8)
        out.reserveCapacity(out.count + e.response.count + (e.usage?.count ?? 4) + 96)
        out += e.response
        out += Array(",\"usage\":".utf8)
        out += e.usage ?? Array("null".utf8)
        out += Array(",\"cost_micro_usd\":\(e.costMicroUSD),\"created_at\":\(e.createdAt),\"expires_at\":\(e.expiresAt)}".utf8)
        return .json(bytes: out)
    }

    /// `GET .../entries/{key}`.
    static func entry(_ e: CacheEntry, in ns: NamespaceID) -> HTTPResponse {
        var out = Array(
            "{\"key\":\(JSONText.quoted(e.key)),\"namespace\":\(JSONText.quoted(ns.namespace)),\"tenant\":\(JSONText.quoted(ns.tenant)),\"response\":".utf8)
        out += e.response
        out += Array(",\"usage\":".utf8)
        out += e.usage ?? Array("null".utf8)
        out += Array(
            ",\"cost_micro_usd\":\(e.costMicroUSD),\"bytes\":\(e.bytes),\"has_vector\":\(e.hasVector),\"created_at\":\(e.createdAt),\"expires_at\":\(e.expiresAt)}".utf8)
        return .json(bytes: out)
    }
}
