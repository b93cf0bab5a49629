import COpenBLAS

/// A fully connected layer `y = x·Wᵀ + b` over row-major `[rows, inFeatures]` input
/// (PyTorch's `nn.Linear` layout: `W` is `[outFeatures, inFeatures]`).
protocol LinearLayer: Sendable {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// Bytes of weights and biases held in memory.
    var byteCount: Int { get }
    /// Writes `rows × outFeatures` outputs to `y`. `scratch` holds at least `outFeatures × inFeatures` floats.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>)
}

extension LinearLayer {
    /// Fills every output row with the bias so sgemm can accumulate onto it (beta = 1).
    func broadcast(bias: [Float], rows: Int, into y: UnsafeMutablePointer<Float>) {
        bias.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return }
            for r in 0..<rows { (y + r * outFeatures).update(from: base, count: outFeatures) }
        }
    }
}

/// fp32 weights, one sgemm per call.
struct DenseLinear: LinearLayer {
    let weight: [Float]
    let bias: [Float]
    let inFeatures: Int
    let outFeatures: Int
    var byteCount: Int { (weight.count + bias.count) * 4 }

    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        broadcast(bias: bias, rows: rows, into: y)
        weight.withUnsafeBufferPointer { w in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures),
                1, x, Int32(inFeatures), w.baseAddress, Int32(inFeatures), 1, y, Int32(outFeatures))
        }
    }
}
