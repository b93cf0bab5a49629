import BulkheadCrypto

/// Random, prefixed identifiers (`usr_3f9a...`): 96 bits, so ids are unguessable as well as unique.
enum Identifiers {
    static func make(_ prefix: String) -> String {
        prefix + "_" + Hex.encode(SecureRandom.bytes(count: 12))
    }
}
