import COpenSSL

/// An Ed25519 verification key (RFC 8032).
///
/// Sendable: the wrapped `EVP_PKEY` is never modified after `init`, and OpenSSL 3 allows one key
/// to be used by several threads at once as long as each uses its own `EVP_MD_CTX` (which
/// `isValidSignature(_:for:)` does). The key is freed in `deinit`.
public final class Ed25519PublicKey: @unchecked Sendable, Equatable, Hashable {
    /// Length of the raw public key.
    public static let rawByteCount = 32

    let pkey: OpaquePointer
    /// The raw key, kept for equality, hashing and export.
    public let rawRepresentation: [UInt8]

    private init(taking pkey: OpaquePointer, raw: [UInt8]) {
        self.pkey = pkey
        self.rawRepresentation = raw
    }

    deinit {
        EVP_PKEY_free(pkey)
    }

    /// Imports a raw 32-byte public key.
    public convenience init(rawRepresentation raw: [UInt8]) throws {
        guard raw.count == Self.rawByteCount else {
            throw CryptoError("Ed25519 public key must be \(Self.rawByteCount) bytes, got \(raw.count)")
        }
        let key = raw.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
        }
        guard let key else { throw CryptoError.openSSL("EVP_PKEY_new_raw_public_key failed") }
        self.init(taking: key, raw: raw)
    }

    /// Imports a PEM `PUBLIC KEY` (X.509 SubjectPublicKeyInfo), as written by `pemRepresentation`
    /// or `openssl pkey -pubout`. Throws for other key types.
    public convenience init(pemRepresentation pem: String) throws {
        let key = try MemoryBIO.reading(pem) { bio -> OpaquePointer in
            guard let key = PEM_read_bio_PUBKEY(bio, nil, { _, _, _, _ in 0 }, nil) else {
                throw CryptoError.openSSL("PEM_read_bio_PUBKEY failed")
            }
            return key
        }
        guard EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(key)
            throw CryptoError("PEM public key is not an Ed25519 key")
        }
        var raw = [UInt8](repeating: 0, count: Self.rawByteCount)
        var length = raw.count
        let ok = raw.withUnsafeMutableBufferPointer {
            EVP_PKEY_get_raw_public_key(key, $0.baseAddress, &length) == 1
        }
        guard ok, length == Self.rawByteCount else {
            EVP_PKEY_free(key)
            throw CryptoError.openSSL("EVP_PKEY_get_raw_public_key failed")
        }
        self.init(taking: key, raw: raw)
    }

    /// The key as PEM SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`).
    public func pemRepresentation() throws -> String {
        try MemoryBIO.writing("PEM_write_bio_PUBKEY") { bio in
            PEM_write_bio_PUBKEY(bio, pkey)
        }
    }

    /// Returns whether `signature` is a valid Ed25519 signature of `message` under this key.
    /// Any malformed input (wrong signature length included) is simply invalid.
    public func isValidSignature<Signature: Collection, Message: Collection>(
        _ signature: Signature, for message: Message
    ) -> Bool where Signature.Element == UInt8, Message.Element == UInt8 {
        guard signature.count == Ed25519PrivateKey.signatureByteCount else { return false }
        guard let context = EVP_MD_CTX_new() else {
            OpenSSLErrorQueue.clear()
            return false
        }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, pkey) == 1 else {
            OpenSSLErrorQueue.clear()
            return false
        }
        let valid = ByteBuffers.withPointer(to: signature) { signaturePointer, signatureCount in
            ByteBuffers.withPointer(to: message) { messagePointer, messageCount in
                EVP_DigestVerify(context, signaturePointer, signatureCount, messagePointer, messageCount) == 1
            }
        }
        // A bad signature leaves an entry on the queue; it is an answer, not an error.
        OpenSSLErrorQueue.clear()
        return valid
    }

    /// Verifies a signature over the UTF-8 bytes of `message`.
    public func isValidSignature<Signature: Collection>(_ signature: Signature, for message: String) -> Bool
    where Signature.Element == UInt8 {
        isValidSignature(signature, for: Array(message.utf8))
    }

    public static func == (lhs: Ed25519PublicKey, rhs: Ed25519PublicKey) -> Bool {
        lhs.rawRepresentation == rhs.rawRepresentation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(rawRepresentation)
    }
}
