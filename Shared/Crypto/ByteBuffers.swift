/// Helpers that hand OpenSSL a pointer that is never NULL, even for empty input.
///
/// Swift may give an empty array a `nil` base address; several OpenSSL entry points treat a
/// NULL pointer differently from an empty buffer, so empty inputs point at a private byte.
enum ByteBuffers {
    /// Calls `body` with a non-NULL pointer to `bytes` and their count.
    static func withPointer<Bytes: Collection, R>(
        to bytes: Bytes,
        _ body: (UnsafePointer<UInt8>, Int) throws -> R
    ) rethrows -> R where Bytes.Element == UInt8 {
        if let result = try bytes.withContiguousStorageIfAvailable({ buffer -> R in
            try withNonNull(UnsafeRawBufferPointer(buffer), body)
        }) {
            return result
        }
        let copy = Array(bytes)
        return try copy.withUnsafeBytes { try withNonNull($0, body) }
    }

    /// Calls `body` with a non-NULL pointer to the bytes of `buffer`.
    static func withNonNull<R>(
        _ buffer: UnsafeRawBufferPointer,
        _ body: (UnsafePointer<UInt8>, Int) throws -> R
    ) rethrows -> R {
        if let base = buffer.baseAddress, buffer.count > 0 {
            return try body(base.assumingMemoryBound(to: UInt8.self), buffer.count)
        }
        var placeholder: UInt8 = 0
        return try withUnsafePointer(to: &placeholder) { try body($0, 0) }
    }
}
