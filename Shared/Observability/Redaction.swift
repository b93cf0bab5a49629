/// Decides which metadata keys hold secrets and replaces their values with `"[redacted]"`.
///
/// ``Logger`` applies ``standard`` to every metadata key automatically, both for metadata
/// attached with ``Logger/with(_:)`` and for metadata passed with a single line.
///
/// A key is split into lowercase words at every non-alphanumeric character and at
/// camel-case boundaries (`X-Api-Key`, `x_api_key` and `xApiKey` all give `x api key`).
/// It is sensitive when:
/// - a word is one of `password`, `passwd`, `pwd`, `passphrase`, `secret`, `secrets`,
///   `token`, `authorization`, `cookie`, `cookies`, `credential`, `credentials`, `apikey`,
///   `privatekey`, `jwt`, `bearer`; or
/// - a word ends in `password`, `passwd`, `secret`, `token` or `apikey`
///   (`dbpassword`, `accesstoken`); or
/// - two adjacent words are `api key`, `private key`, `access key`, `secret key`,
///   `session id` or `set cookie`; or
/// - the whole key, lowercased, is in ``extraSensitiveKeys``.
///
/// Plural counts such as `prompt_tokens` or `max_tokens` are not treated as secrets.
public struct Redaction: Sendable, Hashable {
    /// The text that replaces a sensitive value.
    public static let placeholder = "[redacted]"

    /// The default rules described above, with no extra keys.
    public static let standard = Redaction()

    /// Additional whole keys (compared lowercased) to redact, for names the word rules miss.
    public var extraSensitiveKeys: Set<String>

    /// Creates redaction rules; `extraSensitiveKeys` are matched case-insensitively against
    /// the whole key.
    public init(extraSensitiveKeys: Set<String> = []) {
        self.extraSensitiveKeys = Set(extraSensitiveKeys.map { $0.lowercased() })
    }

    private static let sensitiveWords: [[UInt8]] = [
        "password", "passwd", "pwd", "passphrase", "secret", "secrets", "token",
        "authorization", "cookie", "cookies", "credential", "credentials", "apikey",
        "privatekey", "jwt", "bearer",
    ].map { Array($0.utf8) }
    private static let sensitiveSuffixes: [[UInt8]] = ["password", "passwd", "secret", "token", "apikey"]
        .map { Array($0.utf8) }
    private static let sensitivePairs: [(first: [UInt8], second: [UInt8])] = [
        ("api", "key"), ("private", "key"), ("access", "key"), ("secret", "key"), ("session", "id"), ("set", "cookie"),
    ].map { (Array($0.0.utf8), Array($0.1.utf8)) }

    /// Whether values under `key` must not be logged. Does not allocate unless
    /// ``extraSensitiveKeys`` is non-empty.
    public func isSensitive(_ key: String) -> Bool {
        if !extraSensitiveKeys.isEmpty, extraSensitiveKeys.contains(key.lowercased()) {
            return true
        }
        var key = key
        return key.withUTF8 { Self.hasSensitiveWord($0) }
    }

    /// Returns `value`, or ``placeholder`` when `key` is sensitive.
    public func redact(_ key: String, _ value: LogValue) -> LogValue {
        isSensitive(key) ? .string(Self.placeholder) : value
    }

    /// Returns `metadata` with every sensitive value replaced by ``placeholder``.
    public func redact(_ metadata: [String: LogValue]) -> [String: LogValue] {
        var result = metadata
        for key in metadata.keys where isSensitive(key) {
            result[key] = .string(Self.placeholder)
        }
        return result
    }

    /// Splits the key into words in place (see the type's documentation) and checks each.
    private static func hasSensitiveWord(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var previous: Range<Int>?
        var index = 0
        let count = bytes.count
        while index < count {
            while index < count, !isAlphanumeric(bytes[index]) { index += 1 }
            guard index < count else { break }
            let start = index
            index += 1
            while index < count, isAlphanumeric(bytes[index]) {
                // An upper-case letter after a lower-case letter or digit starts a new word.
                if isUpper(bytes[index]), !isUpper(bytes[index - 1]) { break }
                index += 1
            }
            let word = start..<index
            for candidate in sensitiveWords where matches(bytes, word, candidate) { return true }
            for suffix in sensitiveSuffixes where word.count >= suffix.count {
                if matches(bytes, (word.upperBound - suffix.count)..<word.upperBound, suffix) { return true }
            }
            if let previous {
                for pair in sensitivePairs
                where matches(bytes, previous, pair.first) && matches(bytes, word, pair.second) {
                    return true
                }
            }
            previous = word
        }
        return false
    }

    /// Whether `bytes[range]`, lowercased, equals `candidate`.
    @inline(__always)
    private static func matches(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ candidate: [UInt8]) -> Bool {
        guard range.count == candidate.count else { return false }
        var offset = 0
        for index in range {
            let byte = bytes[index]
            let lowered = isUpper(byte) ? byte | 0x20 : byte
            if lowered != candidate[offset] { return false }
            offset += 1
        }
        return true
    }

    @inline(__always)
    private static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }

    @inline(__always)
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
    }
}
