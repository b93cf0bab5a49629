import COpenSSL

/// One-shot message digests through `EVP_Digest`.
enum EVPDigest {
    /// Hashes `bytes` with the digest `md` (for example `EVP_sha256()`).
    ///
    /// The built-in digests cannot fail for in-memory input short of memory exhaustion,
    /// so a failure stops the process rather than returning a wrong digest.
    static func hash<Bytes: Collection>(_ bytes: Bytes, md: OpaquePointer?, size: Int) -> [UInt8]
    where Bytes.Element == UInt8 {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let ok = ByteBuffers.withPointer(to: bytes) { pointer, count -> Bool in
            output.withUnsafeMutableBufferPointer { out -> Bool in
                EVP_Digest(pointer, count, out.baseAddress, &length, md, nil) == 1
            }
        }
        guard ok, Int(length) == size else {
            fatalError("EVP_Digest failed: \(OpenSSLErrorQueue.drain().joined(separator: "; "))")
        }
        return Array(output.prefix(size))
    }
}
