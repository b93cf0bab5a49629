import COpenSSL

/// An Ed25519 signing key (RFC 8032), for example for signing JWTs.
///
/// Sendable: the wrapped `EVP_PKEY` is never modified after `init`, and OpenSSL 3 allows one key
/// to be used by several threads at once as long as each uses its own `EVP_MD_CTX` (which
/// `signature(for:)` does). The key is freed in `deinit`.
public final class Ed25519PrivateKey: @unchecked Sendable {
    /// Length of the raw private key (the RFC 8032 seed).
    public static let rawByteCount = 32
    /// Length of a signature.
    public static let signatureByteCount = 64

    let pkey: OpaquePointer
    /// The matching public key.
    public let publicKey: Ed25519PublicKey

    /// Takes ownership of `pkey` (freed on failure too) and derives the public key.
    private init(taking pkey: OpaquePointer) throws {
        var raw = [UInt8](repeating: 0, count: Ed25519PublicKey.rawByteCount)
        var length = raw.count
        let ok = raw.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_raw_public_key(pkey, $0.baseAddress, &length) == 1
        }
        do {
            guard ok, length == Ed25519PublicKey.rawByteCount else {
                throw CryptoError.openSSL("EVP_PKEY_get_raw_public_key failed")
            }
            self.publicKey = try Ed25519PublicKey(rawRepresentation: raw)
        } catch {
            EVP_PKEY_free(pkey)
            throw error
        }
        self.pkey = pkey
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// Generates a new random key.
    public convenience init() throws {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw CryptoError.openSSL("EVP_PKEY_CTX_new_id(ED25519) failed")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &key) == 1, let key else {
            throw CryptoError.openSSL("Ed25519 key generation failed")
        }
        try self.init(taking: key)
    }

    /// Generates a new random key.
    public static func generate() throws -> Ed25519PrivateKey {
        try Ed25519PrivateKey()
    }

    /// Imports a raw 32-byte private key (the RFC 8032 seed).
    public convenience init(rawRepresentation raw: [UInt8]) throws {
        guard raw.count == Self.rawByteCount else {
            throw CryptoError("Ed25519 private key must be \(Self.rawByteCount) bytes, got \(raw.count)")
        }
        let key = raw.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let key else { throw CryptoError.openSSL("EVP_PKEY_new_raw_private_key failed") }
        try self.init(taking: key)
    }

    /// Imports a PEM `PRIVATE KEY` (unencrypted PKCS#8), as written by `pemRepresentation`
    /// or `openssl genpkey -algorithm ed25519`. Throws for other key types and for encrypted
    /// PEM (no passphrase prompt is ever shown).
    public convenience init(pemRepresentation pem: String) throws {
        let key = try MemoryBIO.reading(pem) { bio -> OpaquePointer in
            guard let key = PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil) else {
                throw CryptoError.openSSL("PEM_read_bio_PrivateKey failed")
            }
            return key
        }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(key)
            throw CryptoError("PEM private key is not an Ed25519 key")
        }
        try self.init(taking: key)
    }

    /// The raw 32-byte private key. Treat it as a secret.
    public func rawRepresentation() throws -> [UInt8] {
        var raw = [UInt8](repeating: 0, count: Self.rawByteCount)
        var length = raw.count
        let ok = raw.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_raw_private_key(pkey, $0.baseAddress, &length) == 1
        }
        guard ok, length == Self.rawByteCount else {
            throw CryptoError.openSSL("EVP_PKEY_get_raw_private_key failed")
        }
        return raw
    }

    /// The key as an unencrypted PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). Treat it as a secret.
    public func pemRepresentation() throws -> String {
        try MemoryBIO.writing("PEM_write_bio_PrivateKey") { bio in
            PEM_write_bio_PrivateKey(bio, pkey, nil, nil, 0, nil, nil)
        }
    }

    /// Signs `message` (pure Ed25519: no pre-hash) and returns the 64-byte signature.
    public func signature<Message: Collection>(for message: Message) throws -> [UInt8]
    where Message.Element == UInt8 {
        guard let context = EVP_MD_CTX_new() else { throw CryptoError.openSSL("EVP_MD_CTX_new failed") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, pkey) == 1 else {
            throw CryptoError.openSSL("EVP_DigestSignInit failed")
        }
        var signature = [UInt8](repeating: 0, count: Self.signatureByteCount)
        var length = signature.count
        let ok = ByteBuffers.withPointer(to: message) { pointer, count in
            signature.withUnsafeMutableBufferPointer {
                EVP_DigestSign(context, $0.baseAddress, &length, pointer, count) == 1
            }
        }
        guard ok, length == Self.signatureByteCount else { throw CryptoError.openSSL("EVP_DigestSign failed") }
        return signature
    }

    /// Signs the UTF-8 bytes of `message`.
    public func signature(for message: String) throws -> [UInt8] {
        try signature(for: Array(message.utf8))
    }
}
