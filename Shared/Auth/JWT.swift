import BulkheadCrypto
import Foundation

/// Compact JWS (RFC 7515) encoding and decoding for EdDSA (Ed25519) access tokens.
///
/// ```swift
/// let token = try JWT.sign(claims, kid: "k1", key: privateKey)
/// let parsed = try JWT.parse(token)      // header + claims + signature, nothing verified yet
/// ```
public enum JWT {
    /// Tokens longer than this are refused before any parsing.
    public static let maximumLength = 8 * 1024

    /// The JOSE header we write and accept.
    public struct Header: Sendable, Codable, Equatable {
        public var alg: String
        public var typ: String?
        public var kid: String?
        public init(alg: String = "EdDSA", typ: String? = "JWT", kid: String?) {
            self.alg = alg
            self.typ = typ
            self.kid = kid
        }
    }

    /// A token split into its parts; the signature is not checked yet.
    public struct Parsed: Sendable {
        public var header: Header
        public var claims: AccessTokenClaims
        /// `base64url(header) + "." + base64url(payload)`: the bytes the signature covers.
        public var signingInput: [UInt8]
        public var signature: [UInt8]
    }

    /// Signs `claims` with `key` and returns the compact token.
    public static func sign(_ claims: AccessTokenClaims, kid: String, key: Ed25519PrivateKey) throws -> String {
        try sign(claims, header: Header(kid: kid), key: key)
    }

    /// Signs with an explicit header (tests use this to forge bad headers).
    public static func sign<Claims: Encodable>(_ claims: Claims, header: Header, key: Ed25519PrivateKey) throws -> String {
        let input = try signingInput(claims, header: header)
        let signature = try key.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(signature)
    }

    /// `base64url(header).base64url(claims)`.
    public static func signingInput<Claims: Encodable>(_ claims: Claims, header: Header) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let h = try encoder.encode(header)
        let c = try encoder.encode(claims)
        return Base64URL.encode(Array(h)) + "." + Base64URL.encode(Array(c))
    }

    /// Splits and decodes a compact token. Throws `TokenVerificationError.malformed` or
    /// `.unsupportedAlgorithm`; checks neither signature nor times.
    public static func parse(_ token: String) throws(TokenVerificationError) -> Parsed {
        let utf8 = token.utf8
        guard !utf8.isEmpty else { throw .malformed("empty token") }
        guard utf8.count <= maximumLength else { throw .malformed("token longer than \(maximumLength) bytes") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three dot-separated parts, got \(parts.count)") }
        guard let headerBytes = Base64URL.decode(String(parts[0])) else { throw .malformed("header is not base64url") }
        guard let payloadBytes = Base64URL.decode(String(parts[1])) else { throw .malformed("payload is not base64url") }
        guard let signature = Base64URL.decode(String(parts[2])) else { throw .malformed("signature is not base64url") }
        let decoder = JSONDecoder()
        let header: Header
        do { header = try decoder.decode(Header.self, from: Data(headerBytes)) } catch {
            throw .malformed("header is not a JSON object with 'alg'")
        }
        // Checked before anything else: `none` and HMAC algorithms never reach key lookup.
        guard header.alg == "EdDSA" else { throw .unsupportedAlgorithm(String(header.alg.prefix(32))) }
        if let typ = header.typ, typ.uppercased() != "JWT" && typ.lowercased() != "at+jwt" {
            throw .malformed("unexpected typ '\(typ.prefix(32))'")
        }
        let claims: AccessTokenClaims
        do { claims = try decoder.decode(AccessTokenClaims.self, from: Data(payloadBytes)) } catch {
            throw .malformed("claims are missing or have the wrong type")
        }
        let input = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        return Parsed(header: header, claims: claims, signingInput: input, signature: signature)
    }
}
