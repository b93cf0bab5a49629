import COpenSSL

/// Comparisons whose running time does not depend on where the inputs differ.
public enum ConstantTime {
    /// Returns whether `a` and `b` hold the same bytes, using `CRYPTO_memcmp`.
    ///
    /// Inputs of different lengths are unequal; the comparison then returns at once, so only the
    /// lengths (which are not secret for MACs, digests and fixed-size tokens) can leak by timing.
    public static func equals<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return ByteBuffers.withPointer(to: a) { left, count in
            ByteBuffers.withPointer(to: b) { right, _ in
                CRYPTO_memcmp(left, right, count) == 0
            }
        }
    }

    /// Compares the UTF-8 bytes of two strings (API keys, tokens) in constant time.
    public static func equals(_ a: String, _ b: String) -> Bool {
        equals(Array(a.utf8), Array(b.utf8))
    }
}
