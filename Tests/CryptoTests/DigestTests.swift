import BulkheadCrypto
import Testing

@Suite("Digests and HMAC")
struct DigestTests {
    @Test("SHA-256 of \"abc\" (FIPS 180-2 example)")
    func sha256ABC() {
        #expect(Hex.encode(SHA256.hash("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Hex.encode(SHA256.hash([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("SHA-1 of the RFC 6455 sample key gives the sample Sec-WebSocket-Accept")
    func sha1WebSocketAccept() {
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        let digest = SHA1.hash(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
        #expect(digest.count == SHA1.byteCount)
        #expect(Base64.encode(digest) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test("HMAC-SHA-256 RFC 4231 test cases 1, 2 and 6")
    func hmacRFC4231() {
        let case1 = HMACSHA256.authenticationCode(key: [UInt8](repeating: 0x0b, count: 20), message: "Hi There")
        #expect(Hex.encode(case1) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")

        let case2 = HMACSHA256.authenticationCode(key: Array("Jefe".utf8), message: "what do ya want for nothing?")
        #expect(Hex.encode(case2) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")

        // Key longer than the block size (hashed first).
        let case6 = HMACSHA256.authenticationCode(
            key: [UInt8](repeating: 0xaa, count: 131),
            message: "Test Using Larger Than Block-Size Key - Hash Key First")
        #expect(Hex.encode(case6) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test("HMAC verification accepts the right code and rejects others")
    func hmacVerify() {
        let key = Array("secret".utf8)
        let message = Array("payload".utf8)
        var code = HMACSHA256.authenticationCode(key: key, message: message)
        #expect(HMACSHA256.isValidAuthenticationCode(code, key: key, message: message))
        code[0] ^= 1
        #expect(!HMACSHA256.isValidAuthenticationCode(code, key: key, message: message))
        #expect(!HMACSHA256.isValidAuthenticationCode(Array(code.prefix(16)), key: key, message: message))
        #expect(HMACSHA256.authenticationCode(key: [UInt8](), message: [UInt8]()).count == 32)
    }

    @Test("Hex round trip and strict decoding")
    func hex() {
        #expect(Hex.encode([0x00, 0x7f, 0xff, 0xab]) == "007fffab")
        #expect(Hex.decode("007FFFab") == [0x00, 0x7f, 0xff, 0xab])
        #expect(Hex.decode("") == [])
        #expect(Hex.decode("abc") == nil)
        #expect(Hex.decode("zz") == nil)
    }
}
