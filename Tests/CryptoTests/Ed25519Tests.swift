import BulkheadCrypto
import Testing

@Suite("Ed25519")
struct Ed25519Tests {
    /// RFC 8032 §7.1, TEST 1 (empty message).
    static let secret = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
    static let publicKey = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    static let signature =
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"

    @Test("RFC 8032 test 1: public key and signature")
    func rfc8032Test1() throws {
        let key = try Ed25519PrivateKey(rawRepresentation: #require(Hex.decode(Self.secret)))
        #expect(Hex.encode(key.publicKey.rawRepresentation) == Self.publicKey)
        let signature = try key.signature(for: [UInt8]())
        #expect(Hex.encode(signature) == Self.signature)
        let verifier = try Ed25519PublicKey(rawRepresentation: #require(Hex.decode(Self.publicKey)))
        #expect(verifier.isValidSignature(signature, for: [UInt8]()))
        #expect(try key.rawRepresentation() == Hex.decode(Self.secret))
    }

    @Test("Sign/verify round trip; tampering with message, signature or key fails")
    func roundTripAndTamper() throws {
        let key = try Ed25519PrivateKey.generate()
        let message = Array("header.payload".utf8)
        let signature = try key.signature(for: message)
        #expect(signature.count == 64)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        #expect(key.publicKey.isValidSignature(signature, for: "header.payload"))

        var tamperedMessage = message
        tamperedMessage[0] ^= 1
        #expect(!key.publicKey.isValidSignature(signature, for: tamperedMessage))

        var tamperedSignature = signature
        tamperedSignature[10] ^= 0x40
        #expect(!key.publicKey.isValidSignature(tamperedSignature, for: message))
        #expect(!key.publicKey.isValidSignature(Array(signature.dropLast()), for: message))
        #expect(!key.publicKey.isValidSignature([UInt8](), for: message))

        let otherKey = try Ed25519PrivateKey()
        #expect(!otherKey.publicKey.isValidSignature(signature, for: message))
    }

    @Test("PEM export and import (PKCS#8 private, SPKI public)")
    func pem() throws {
        let key = try Ed25519PrivateKey()
        let privatePEM = try key.pemRepresentation()
        #expect(privatePEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let reloaded = try Ed25519PrivateKey(pemRepresentation: privatePEM)
        #expect(try reloaded.rawRepresentation() == key.rawRepresentation())
        #expect(reloaded.publicKey == key.publicKey)

        let publicPEM = try key.publicKey.pemRepresentation()
        #expect(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        let publicKey = try Ed25519PublicKey(pemRepresentation: publicPEM)
        #expect(publicKey == key.publicKey)
        #expect(publicKey.isValidSignature(try reloaded.signature(for: "x"), for: "x"))
    }

    @Test("Bad key material is rejected with an error")
    func badInput() {
        #expect(throws: CryptoError.self) { try Ed25519PrivateKey(rawRepresentation: [1, 2, 3]) }
        #expect(throws: CryptoError.self) { try Ed25519PublicKey(rawRepresentation: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: CryptoError.self) { try Ed25519PrivateKey(pemRepresentation: "not a pem") }
        #expect(throws: CryptoError.self) { try Ed25519PublicKey(pemRepresentation: "") }
    }

    @Test("A public PEM is not accepted as a private key")
    func wrongPEMKind() throws {
        let key = try Ed25519PrivateKey()
        let publicPEM = try key.publicKey.pemRepresentation()
        #expect(throws: CryptoError.self) { try Ed25519PrivateKey(pemRepresentation: publicPEM) }
    }

    @Test("One key signs from many tasks at once")
    func concurrentSigning() async throws {
        let key = try Ed25519PrivateKey()
        let publicKey = key.publicKey
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<32 {
                group.addTask {
                    let message = Array("message \(index)".utf8)
                    return publicKey.isValidSignature(try key.signature(for: message), for: message)
                }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 32)
        #expect(results.allSatisfy { $0 })
    }
}
