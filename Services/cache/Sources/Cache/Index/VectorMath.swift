import CBulkheadKernels

/// Dot products and normalization on raw Float32 rows. Every stored vector is unit length, so a
/// dot product is the cosine similarity.
enum VectorMath {
    /// `Σ a[i]·b[i]` over `count` floats (the C kernel: AVX-512F or AVX2+FMA, chosen at run time,
    /// built at -O3 even in debug builds).
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        bh_vec_dot(a, b, Int32(count))
    }

    /// The vector scaled to unit length, or nil when it has a NaN/infinite component or is zero
    /// (such a vector has no direction, so no cosine).
    static func normalized(_ vector: [Float]) -> [Float]? {
        var norm2: Float = 0
        for x in vector {
            guard x.isFinite else { return nil }
            norm2 += x * x
        }
        guard norm2 > 0, norm2.isFinite else { return nil }
        let inv = 1 / norm2.squareRoot()
        return vector.map { $0 * inv }
    }
}
