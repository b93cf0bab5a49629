import Foundation

/// Element-wise kernels of the forward pass (the matrix products go to OpenBLAS).
enum Kernels {
    /// Numerically stable softmax of each row, in place.
    static func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, columns: Int) {
        for r in 0..<rows {
            let row = x + r * columns
            var m = -Float.infinity
            for c in 0..<columns { m = max(m, row[c]) }
            var sum: Float = 0
            for c in 0..<columns { let e = expf(row[c] - m); row[c] = e; sum += e }
            let inv = 1 / sum
            for c in 0..<columns { row[c] *= inv }
        }
    }

    /// `y += x`.
    static func add(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// Exact (erf) GELU, as BERT's `hidden_act: gelu`, in place.
    static func gelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let invSqrt2: Float = 0.70710678118654752
        for i in 0..<count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + erff(v * invSqrt2))
        }
    }
}
