import BulkheadCrypto
import Testing

@Suite("Base64, base64url, constant time, random")
struct EncodingTests {
    /// RFC 4648 §10 vectors.
    static let rfc4648: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test("Standard base64 matches RFC 4648 and round-trips")
    func standardVectors() {
        for (plain, encoded) in Self.rfc4648 {
            #expect(Base64.encode(plain) == encoded)
            #expect(Base64.decode(encoded) == Array(plain.utf8))
        }
    }

    @Test("Base64url drops padding and uses - and _")
    func urlVectors() {
        for (plain, encoded) in Self.rfc4648 {
            let unpadded = String(encoded.filter { $0 != "=" })
            #expect(Base64URL.encode(plain) == unpadded)
            #expect(Base64URL.decode(unpadded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xfb, 0xff, 0xbf]) == "-_-_")
        #expect(Base64.encode([0xfb, 0xff, 0xbf]) == "+/+/")
        #expect(Base64URL.decode("-_-_") == [0xfb, 0xff, 0xbf])
    }

    @Test("Base64url rejects malformed input", arguments: [
        "Zg==",  // padding is not allowed
        "Zm9v=",
        "+/+/",  // standard alphabet
        "Zm9v Yg",  // whitespace
        "Z",  // one dangling character cannot encode a byte
        "Zm9vY",
        "Zh",  // non-zero unused bits ("Zg" is canonical)
        "Zm9=",
        "é",
    ])
    func urlRejects(input: String) {
        #expect(Base64URL.decode(input) == nil)
    }

    @Test("Standard base64 rejects malformed input", arguments: [
        "Zg", "Zg=", "Zg===", "Z===", "====", "Zm9vYg=a", "Z=9v", "-_-_", "Zh==", "Zm9=", "Zm 9v",
    ])
    func standardRejects(input: String) {
        #expect(Base64.decode(input) == nil)
    }

    @Test("Every byte value round-trips at every length mod 3")
    func roundTripAllBytes() {
        let all = (0...255).map { UInt8($0) }
        for length in [0, 1, 2, 3, 254, 255, 256] {
            let bytes = Array(all.prefix(length))
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
        }
    }

    @Test("ConstantTime.equals handles equal, different and different-length inputs")
    func constantTime() {
        #expect(ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2, 3] as [UInt8]))
        #expect(!ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2, 4] as [UInt8]))
        #expect(!ConstantTime.equals([1, 2, 3] as [UInt8], [1, 2] as [UInt8]))
        #expect(!ConstantTime.equals([] as [UInt8], [0] as [UInt8]))
        #expect(ConstantTime.equals([] as [UInt8], [] as [UInt8]))
        #expect(ConstantTime.equals("token", "token"))
        #expect(!ConstantTime.equals("token", "tokeN"))
    }

    @Test("SecureRandom gives the requested sizes and distinct values")
    func random() {
        #expect(SecureRandom.bytes(count: 0).isEmpty)
        #expect(SecureRandom.bytes(count: 33).count == 33)
        #expect(SecureRandom.bytes(count: 32) != SecureRandom.bytes(count: 32))
        let token = SecureRandom.token()
        #expect(token.count == 43)
        #expect(Base64URL.decode(token)?.count == 32)
        #expect(SecureRandom.token(bytes: 16).count == 22)
    }
}
