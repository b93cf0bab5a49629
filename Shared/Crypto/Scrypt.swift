import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// The scrypt key-derivation function (RFC 7914), through OpenSSL's `EVP_KDF` "SCRYPT".
public enum Scrypt {
    /// The default memory ceiling for one derivation: 256 MiB.
    public static let defaultMaxMemory: UInt64 = 256 << 20

    /// Derives `length` bytes from `password` and `salt`.
    ///
    /// Parameters are validated first (see `ScryptParameters.validate(maxMemory:)`); the exact
    /// memory the derivation needs is passed to OpenSSL as its `maxmem_bytes` limit, so a
    /// derivation above `maxMemory` is refused with a clear error instead of OpenSSL's default cap.
    /// This call is CPU- and memory-heavy by design: run it off latency-sensitive threads.
    public static func derive(
        password: [UInt8], salt: [UInt8], n: UInt64, r: UInt32, p: UInt32, length: Int,
        maxMemory: UInt64 = defaultMaxMemory
    ) throws -> [UInt8] {
        try derive(
            password: password, salt: salt, parameters: ScryptParameters(n: n, r: r, p: p, length: length),
            maxMemory: maxMemory)
    }

    /// Derives a key from `password` and `salt` with stored `parameters`.
    public static func derive(
        password: [UInt8], salt: [UInt8], parameters: ScryptParameters,
        maxMemory: UInt64 = defaultMaxMemory
    ) throws -> [UInt8] {
        try parameters.validate(maxMemory: maxMemory)
        guard let memory = parameters.memoryRequired else { throw CryptoError("scrypt memory overflow") }

        guard let kdf = EVP_KDF_fetch(nil, OSSL_KDF_NAME_SCRYPT, nil) else {
            throw CryptoError.openSSL("EVP_KDF_fetch(SCRYPT) failed")
        }
        defer { EVP_KDF_free(kdf) }
        guard let context = EVP_KDF_CTX_new(kdf) else { throw CryptoError.openSSL("EVP_KDF_CTX_new failed") }
        defer { EVP_KDF_CTX_free(context) }

        // The OSSL_PARAM array points at these (names included: a Swift String passed as
        // `const char *` only lives for one call); they stay allocated until derivation ends.
        let names = [
            OSSL_KDF_PARAM_PASSWORD, OSSL_KDF_PARAM_SALT, OSSL_KDF_PARAM_SCRYPT_N,
            OSSL_KDF_PARAM_SCRYPT_R, OSSL_KDF_PARAM_SCRYPT_P, OSSL_KDF_PARAM_SCRYPT_MAXMEM,
        ].map { (name: String) in strdup(name) }
        defer { names.forEach { free($0) } }
        let keys = names.compactMap { $0.map { UnsafePointer<CChar>($0) } }
        guard keys.count == names.count else { throw CryptoError("out of memory") }
        let wide = UnsafeMutablePointer<UInt64>.allocate(capacity: 2)
        defer { wide.deallocate() }
        let narrow = UnsafeMutablePointer<UInt32>.allocate(capacity: 2)
        defer { narrow.deallocate() }
        wide[0] = parameters.n
        wide[1] = memory
        narrow[0] = parameters.r
        narrow[1] = parameters.p

        var output = [UInt8](repeating: 0, count: parameters.length)
        let ok = ByteBuffers.withPointer(to: password) { passwordPointer, passwordCount in
            ByteBuffers.withPointer(to: salt) { saltPointer, saltCount in
                output.withUnsafeMutableBufferPointer { out -> Bool in
                    let params: [OSSL_PARAM] = [
                        OSSL_PARAM_construct_octet_string(
                            keys[0], UnsafeMutableRawPointer(mutating: passwordPointer),
                            passwordCount),
                        OSSL_PARAM_construct_octet_string(
                            keys[1], UnsafeMutableRawPointer(mutating: saltPointer), saltCount),
                        OSSL_PARAM_construct_uint64(keys[2], wide),
                        OSSL_PARAM_construct_uint32(keys[3], narrow),
                        OSSL_PARAM_construct_uint32(keys[4], narrow + 1),
                        OSSL_PARAM_construct_uint64(keys[5], wide + 1),
                        OSSL_PARAM_construct_end(),
                    ]
                    return EVP_KDF_derive(context, out.baseAddress, out.count, params) == 1
                }
            }
        }
        guard ok else { throw CryptoError.openSSL("scrypt derivation failed (\(parameters))") }
        return output
    }

    /// Derives a key from the UTF-8 bytes of `password`.
    public static func derive(
        password: String, salt: [UInt8], parameters: ScryptParameters,
        maxMemory: UInt64 = defaultMaxMemory
    ) throws -> [UInt8] {
        try derive(password: Array(password.utf8), salt: salt, parameters: parameters, maxMemory: maxMemory)
    }
}
