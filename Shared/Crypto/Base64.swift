/// Standard base64 (RFC 4648 §4) with `=` padding, as used in HTTP headers and PEM bodies.
public enum Base64 {
    /// Encodes `bytes` with the standard alphabet (`+` and `/`) and `=` padding.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Base64Codec.standard.encode(bytes)
    }

    /// Encodes the UTF-8 bytes of `string`.
    public static func encode(_ string: String) -> String {
        encode(Array(string.utf8))
    }

    /// Decodes padded standard base64, strictly.
    ///
    /// Returns `nil` for: a length that is not a multiple of 4, missing or misplaced padding,
    /// characters outside the alphabet (including whitespace and the URL-safe `-`/`_`),
    /// or non-zero unused trailing bits.
    public static func decode(_ string: String) -> [UInt8]? {
        Base64Codec.standard.decode(string)
    }
}
