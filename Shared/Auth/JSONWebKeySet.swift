import BulkheadCrypto

/// One public key in a JWKS (RFC 8037 OKP form for Ed25519).
public struct JSONWebKey: Sendable, Codable, Equatable {
    /// `OKP`.
    public var kty: String
    /// `Ed25519`.
    public var crv: String
    /// The raw 32-byte public key, base64url.
    public var x: String
    public var kid: String
    /// `sig`.
    public var use: String?
    /// `EdDSA`.
    public var alg: String?

    public init(kid: String, publicKey: Ed25519PublicKey) {
        kty = "OKP"
        crv = "Ed25519"
        x = Base64URL.encode(publicKey.rawRepresentation)
        self.kid = kid
        use = "sig"
        alg = "EdDSA"
    }

    /// The Ed25519 key, or nil when this entry is not a usable Ed25519 signing key.
    public func ed25519PublicKey() -> Ed25519PublicKey? {
        guard kty == "OKP", crv == "Ed25519", use == nil || use == "sig", alg == nil || alg == "EdDSA",
            let raw = Base64URL.decode(x), raw.count == Ed25519PublicKey.rawByteCount
        else { return nil }
        return try? Ed25519PublicKey(rawRepresentation: raw)
    }
}

/// `GET /.well-known/jwks.json`: `{"keys":[...]}`.
public struct JSONWebKeySet: Sendable, Codable, Equatable {
    public var keys: [JSONWebKey]
    public init(keys: [JSONWebKey]) { self.keys = keys }

    /// Usable keys by `kid` (entries of other types are skipped, as RFC 7517 §5 asks).
    public func ed25519Keys() -> [String: Ed25519PublicKey] {
        var out: [String: Ed25519PublicKey] = [:]
        for k in keys { if let key = k.ed25519PublicKey() { out[k.kid] = key } }
        return out
    }
}
