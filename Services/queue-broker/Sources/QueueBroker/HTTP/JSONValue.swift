import Shared

// `JSONValue` (any JSON value, carried through Codable unchanged) is the one in module Shared.
extension JSONValue {
    /// Compact JSON text.
    var bytes: [UInt8] { (try? JSONCoding.encoder.encode(self)).map { Array($0) } ?? Array("null".utf8) }
}
