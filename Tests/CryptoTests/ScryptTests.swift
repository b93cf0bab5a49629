import BulkheadCrypto
import Testing

@Suite("scrypt")
struct ScryptTests {
    @Test("RFC 7914 vector: empty password and salt, N=16 r=1 p=1")
    func rfc7914Empty() throws {
        let key = try Scrypt.derive(password: [], salt: [], n: 16, r: 1, p: 1, length: 64)
        #expect(
            Hex.encode(key)
                == "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        )
    }

    @Test("RFC 7914 vector: \"password\"/\"NaCl\", N=1024 r=8 p=16")
    func rfc7914Password() throws {
        let key = try Scrypt.derive(
            password: Array("password".utf8), salt: Array("NaCl".utf8), n: 1024, r: 8, p: 16, length: 64)
        #expect(
            Hex.encode(key)
                == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        )
    }

    @Test("Invalid parameters and memory above the limit are refused")
    func invalidParameters() {
        #expect(throws: CryptoError.self) { try Scrypt.derive(password: [1], salt: [1], n: 1000, r: 8, p: 1, length: 32) }
        #expect(throws: CryptoError.self) { try Scrypt.derive(password: [1], salt: [1], n: 1, r: 8, p: 1, length: 32) }
        #expect(throws: CryptoError.self) { try Scrypt.derive(password: [1], salt: [1], n: 16, r: 0, p: 1, length: 32) }
        #expect(throws: CryptoError.self) { try Scrypt.derive(password: [1], salt: [1], n: 16, r: 1, p: 1, length: 0) }
        // N = 2^20, r = 8 needs ~1 GiB: over a 64 MiB limit, refused before any work.
        #expect(throws: CryptoError.self) {
            try Scrypt.derive(password: [1], salt: [1], n: 1 << 20, r: 8, p: 1, length: 32, maxMemory: 64 << 20)
        }
        let expected: UInt64 = 128 * 8 + 128 * 8 * ((1 << 20) + 2)
        #expect(ScryptParameters(n: 1 << 20, r: 8, p: 1).memoryRequired == expected)
        #expect(ScryptParameters(n: .max, r: .max, p: 1).memoryRequired == nil)
        // Hostile stored parameters are errors, never traps or huge allocations.
        #expect(throws: CryptoError.self) { try ScryptParameters(n: 1 << 4, r: .max, p: .max).validate() }
        #expect(throws: CryptoError.self) { try ScryptParameters(n: 1 << 16, r: 1, p: 1).validate() }
        #expect(throws: CryptoError.self) { try ScryptParameters(n: 16, r: 1, p: 1, length: .max).validate() }
    }

    @Test("Parameters encode, parse and compare for raising later")
    func parameters() throws {
        let stored = ScryptParameters(n: 1 << 14, r: 8, p: 1, length: 32)
        #expect(stored.description == "ln=14,r=8,p=1,len=32")
        #expect(ScryptParameters(description: stored.description) == stored)
        #expect(ScryptParameters(description: "n=1000,r=8,p=1,len=32")?.n == 1000)
        #expect(ScryptParameters(description: "ln=14,r=8,p=1") == nil)
        #expect(ScryptParameters(description: "ln=14,r=8,p=1,len=32,x=1") == nil)
        #expect(ScryptParameters(description: "ln=99,r=8,p=1,len=32") == nil)
        #expect(stored.isWeaker(than: .interactive))
        #expect(!ScryptParameters.interactive.isWeaker(than: stored))
        #expect(!stored.isWeaker(than: stored))
    }

    @Test("Password hash: verify, encode/decode, rehash decision")
    func passwordHash() throws {
        let cheap = ScryptParameters(n: 1 << 10, r: 8, p: 1, length: 32)
        let hash = try ScryptPasswordHash(password: "correct horse", parameters: cheap)
        #expect(try hash.verify(password: "correct horse"))
        #expect(try !hash.verify(password: "correct horsE"))
        #expect(hash.salt.count == 16)

        let encoded = hash.encoded
        #expect(encoded.hasPrefix("scrypt$ln=10,r=8,p=1,len=32$"))
        let decoded = try #require(ScryptPasswordHash(encoded: encoded))
        #expect(decoded == hash)
        #expect(try decoded.verify(password: "correct horse"))

        #expect(hash.needsRehash(for: ScryptParameters(n: 1 << 11, r: 8, p: 1, length: 32)))
        #expect(!hash.needsRehash(for: cheap))

        #expect(ScryptPasswordHash(encoded: "scrypt$ln=10,r=8,p=1,len=32$AAAA") == nil)
        #expect(ScryptPasswordHash(encoded: "bcrypt$ln=10,r=8,p=1,len=32$AAAAAAAAAAA$AAAA") == nil)
        #expect(ScryptPasswordHash(encoded: "scrypt$ln=10,r=8,p=1,len=32$AAAAAAAAAAA$AAAA") == nil)  // key length
    }
}
