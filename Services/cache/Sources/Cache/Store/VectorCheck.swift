/// Checks a vector before it reaches an index: 422 `invalid_vector` for empty, too long,
/// NaN/infinite or all-zero vectors (cosine is undefined for them).
enum VectorCheck {
    static func validate(_ v: [Float], maxDimension: Int, field: String = "vector") throws(CacheError) {
        guard !v.isEmpty else { throw .invalidVector("'\(field)' must hold at least one number.") }
        guard v.count <= maxDimension else {
            throw .invalidVector("'\(field)' has \(v.count) dimensions; at most \(maxDimension) are accepted.")
        }
        var norm: Double = 0
        for (i, x) in v.enumerated() {
            guard x.isFinite else {
                throw .invalidVector("'\(field)[\(i)]' is not a finite number (NaN and Infinity are not allowed).")
            }
            norm += Double(x) * Double(x)
        }
        guard norm > 0, norm.isFinite else {
            throw .invalidVector("'\(field)' must have a non-zero, finite length (cosine similarity is undefined otherwise).")
        }
    }
}
