import COpenSSL

/// SHA-1. Broken for collision resistance: use it only where a protocol demands it
/// (the WebSocket `Sec-WebSocket-Accept` header, RFC 6455), never for security decisions.
public enum SHA1 {
    /// The digest length in bytes.
    public static let byteCount = 20

    /// Returns the 20-byte SHA-1 digest of `bytes`.
    public static func hash<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        EVPDigest.hash(bytes, md: EVP_sha1(), size: byteCount)
    }

    /// Returns the SHA-1 digest of the UTF-8 encoding of `string`.
    public static func hash(_ string: String) -> [UInt8] {
        hash(Array(string.utf8))
    }
}
