import Shared

// `JSONValue` (any JSON value, carried through Codable unchanged) is the one in module Shared.
extension JSONValue {
    /// Compact JSON text.
    var bytes: [UInt8] { (try? JSONCoding.encoder.encode(self)).map { Array($0) } ?? Array("null".utf8) }
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
