import COpenSSL

/// HMAC with SHA-256 (RFC 2104, RFC 4231).
public enum HMACSHA256 {
    /// The authentication code length in bytes.
    public static let byteCount = 32

    /// Returns the 32-byte HMAC-SHA-256 of `message` under `key`. Any key length is allowed.
    public static func authenticationCode<Key: Collection, Message: Collection>(
        key: Key, message: Message
    ) -> [UInt8] where Key.Element == UInt8, Message.Element == UInt8 {
        if key.count > Int(Int32.max) {
            // RFC 2104: keys longer than the block size are replaced by their hash, so this
            // gives the same result while fitting OpenSSL's `int` key length.
            return authenticationCode(key: SHA256.hash(key), message: message)
        }
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = ByteBuffers.withPointer(to: key) { keyPointer, keyCount -> Bool in
            ByteBuffers.withPointer(to: message) { messagePointer, messageCount -> Bool in
                output.withUnsafeMutableBufferPointer { out -> Bool in
                    HMAC(
                        EVP_sha256(), keyPointer, Int32(keyCount), messagePointer, messageCount,
                        out.baseAddress, &length) != nil
                }
            }
        }
        guard ok, Int(length) == byteCount else {
            fatalError("HMAC-SHA-256 failed: \(OpenSSLErrorQueue.drain().joined(separator: "; "))")
        }
        return Array(output.prefix(byteCount))
    }

    /// Returns the HMAC-SHA-256 of the UTF-8 bytes of `message` under `key`.
    public static func authenticationCode<Key: Collection>(key: Key, message: String) -> [UInt8]
    where Key.Element == UInt8 {
        authenticationCode(key: key, message: Array(message.utf8))
    }

    /// Checks `code` against the HMAC of `message` under `key`, in constant time.
    public static func isValidAuthenticationCode<Key: Collection, Message: Collection>(
        _ code: [UInt8], key: Key, message: Message
    ) -> Bool where Key.Element == UInt8, Message.Element == UInt8 {
        ConstantTime.equals(code, authenticationCode(key: key, message: message))
    }
}
