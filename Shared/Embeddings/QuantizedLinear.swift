import COpenBLAS

/// int8 weights with one fp32 scale per output row (symmetric, `scale = max|w| / 127`), computed at load.
///
/// Activations stay fp32: each call dequantizes the weights into a reused scratch buffer and runs
/// one sgemm. The weights take a quarter of the memory; the extra work (one multiply per weight
/// per call) is small next to the product once a batch has more than a few tokens.
struct QuantizedLinear: LinearLayer {
    let weight: [Int8]
    let scales: [Float]
    let bias: [Float]
    let inFeatures: Int
    let outFeatures: Int
    var byteCount: Int { weight.count + (scales.count + bias.count) * 4 }

    /// Quantizes fp32 weights `[outFeatures, inFeatures]` per output row.
    init(quantizing dense: DenseLinear) {
        inFeatures = dense.inFeatures
        outFeatures = dense.outFeatures
        bias = dense.bias
        (weight, scales) = RowQuantizer.quantize(dense.weight, rows: dense.outFeatures, columns: dense.inFeatures)
    }

    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        weight.withUnsafeBufferPointer { w in
            scales.withUnsafeBufferPointer { s in
                for r in 0..<outFeatures {
                    let scale = s[r]
                    let row = r * inFeatures
                    for c in 0..<inFeatures { scratch[row + c] = Float(w[row + c]) * scale }
                }
            }
        }
        broadcast(bias: bias, rows: rows, into: y)
        cblas_sgemm(
            CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures),
            1, x, Int32(inFeatures), scratch, Int32(inFeatures), 1, y, Int32(outFeatures))
    }
}

/// Symmetric per-row int8 quantization.
enum RowQuantizer {
    static func quantize(_ values: [Float], rows: Int, columns: Int) -> (values: [Int8], scales: [Float]) {
        var q = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 0, count: rows)
        for r in 0..<rows {
            var m: Float = 0
            for c in 0..<columns { m = max(m, abs(values[r * columns + c])) }
            let scale = m > 0 ? m / 127 : 1
            scales[r] = scale
            for c in 0..<columns {
                q[r * columns + c] = Int8(max(-127, min(127, (values[r * columns + c] / scale).rounded())))
            }
        }
        return (q, scales)
    }
}
