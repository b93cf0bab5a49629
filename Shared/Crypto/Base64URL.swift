/// Base64url (RFC 4648 §5) without padding, as used by JWTs, tokens and URL-safe identifiers.
public enum Base64URL {
    /// Encodes `bytes` with the URL-safe alphabet (`-` and `_`) and no `=` padding.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Base64Codec.url.encode(bytes)
    }

    /// Encodes the UTF-8 bytes of `string`.
    public static func encode(_ string: String) -> String {
        encode(Array(string.utf8))
    }

    /// Decodes unpadded base64url, strictly.
    ///
    /// Returns `nil` for: characters outside `A–Z a–z 0–9 - _` (including `=`, `+`, `/`,
    /// whitespace), a length that leaves one dangling character, or non-zero unused trailing bits.
    public static func decode(_ string: String) -> [UInt8]? {
        Base64Codec.url.decode(string)
    }
}
