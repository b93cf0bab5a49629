/// One transformer encoder layer's weights: fused Q/K/V projection, attention output, feed-forward.
struct BertLayer: Sendable {
    /// Q, K and V projections stacked into one `[3·hidden, hidden]` layer (one sgemm instead of three).
    let qkv: any LinearLayer
    let attentionOutput: any LinearLayer
    let attentionNorm: LayerNorm
    let intermediate: any LinearLayer
    let output: any LinearLayer
    let outputNorm: LayerNorm

    var byteCount: Int {
        qkv.byteCount + attentionOutput.byteCount + intermediate.byteCount + output.byteCount
            + attentionNorm.byteCount + outputNorm.byteCount
    }
}

/// Layer normalisation over the last dimension.
struct LayerNorm: Sendable {
    let gamma: [Float]
    let beta: [Float]
    let eps: Float
    var byteCount: Int { (gamma.count + beta.count) * 4 }

    /// Normalises `rows` rows of `gamma.count` values in place.
    func apply(_ x: UnsafeMutablePointer<Float>, rows: Int) {
        let n = gamma.count
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                for r in 0..<rows {
                    let row = x + r * n
                    var mean: Float = 0
                    for i in 0..<n { mean += row[i] }
                    mean /= Float(n)
                    var variance: Float = 0
                    for i in 0..<n { let d = row[i] - mean; variance += d * d }
                    variance /= Float(n)
                    let inv = 1 / (variance + eps).squareRoot()
                    for i in 0..<n { row[i] = (row[i] - mean) * inv * g[i] + b[i] }
                }
            }
        }
    }
}
