import COpenSSL

/// In-memory `BIO`s for PEM import and export.
enum MemoryBIO {
    /// Runs `body` with a read-only BIO over the UTF-8 bytes of `text`.
    static func reading<R>(_ text: String, _ body: (OpaquePointer) throws -> R) throws -> R {
        let bytes = Array(text.utf8)
        guard bytes.count <= Int(Int32.max) else { throw CryptoError("PEM input too large") }
        return try ByteBuffers.withPointer(to: bytes) { pointer, count in
            guard let bio = BIO_new_mem_buf(pointer, Int32(count)) else {
                throw CryptoError.openSSL("BIO_new_mem_buf failed")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    /// Creates an empty memory BIO, lets `write` fill it, and returns its contents as text.
    static func writing(_ what: String, _ write: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError.openSSL("BIO_new failed") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw CryptoError.openSSL("\(what) failed") }
        let pending = Int(BIO_ctrl_pending(bio))
        var output = [UInt8](repeating: 0, count: pending)
        let read = output.withUnsafeMutableBytes { buffer -> Int32 in
            guard let base = buffer.baseAddress, pending > 0 else { return 0 }
            return BIO_read(bio, base, Int32(clamping: pending))
        }
        guard Int(read) == pending else { throw CryptoError.openSSL("BIO_read failed") }
        return String(decoding: output, as: UTF8.self)
    }
}
