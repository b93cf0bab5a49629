import CBulkheadKernels

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
        apply(x, adding: nil, rows: rows)
    }

    /// `x = LayerNorm(x + residual)` over `rows` rows, in one pass (the residual add is fused).
    func apply(_ x: UnsafeMutablePointer<Float>, adding residual: UnsafePointer<Float>?, rows: Int) {
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                bh_add_layer_norm(x, residual, g.baseAddress, b.baseAddress, Int32(rows), Int32(g.count), eps)
            }
        }
    }
}
