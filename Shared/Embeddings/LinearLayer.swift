import CBulkheadKernels
import COpenBLAS

/// A fully connected layer `y = x·Wᵀ + b` over row-major `[rows, inFeatures]` input
/// (PyTorch's `nn.Linear` layout: `W` is `[outFeatures, inFeatures]`).
public protocol LinearLayer: Sendable {
    var inFeatures: Int { get }
    var outFeatures: Int { get }
    /// Bytes of weights and biases held in memory.
    var byteCount: Int { get }
    /// Writes `rows × outFeatures` outputs to `y`, applying exact GELU to them when `gelu` is set.
    func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool)
}

extension LinearLayer {
    /// `rows × outFeatures` outputs for `rows × inFeatures` row-major inputs (allocating; for tools and tests).
    public func callAsFunction(_ x: [Float], rows: Int, gelu: Bool = false) throws(EmbeddingError) -> [Float] {
        guard rows >= 0, x.count == rows * inFeatures else {
            throw .invalidInput("linear layer input has \(x.count) values, expected \(rows) rows × \(inFeatures)")
        }
        var y = [Float](repeating: 0, count: rows * outFeatures)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                if let xb = xp.baseAddress, let yb = yp.baseAddress { forward(xb, rows: rows, into: yb, gelu: gelu) }
            }
        }
        return y
    }
}

/// fp32 weights, one sgemm per call.
public struct DenseLinear: LinearLayer {
    let weight: [Float]
    let bias: [Float]
    public let inFeatures: Int
    public let outFeatures: Int
    public var byteCount: Int { (weight.count + bias.count) * 4 }

    /// A layer over row-major `[outFeatures, inFeatures]` weights.
    public init(weight: [Float], bias: [Float], inFeatures: Int, outFeatures: Int) {
        self.weight = weight
        self.bias = bias
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool) {
        // Every output row starts as the bias so sgemm accumulates onto it (beta = 1).
        bias.withUnsafeBufferPointer { b in
            guard let base = b.baseAddress else { return }
            for r in 0..<rows { (y + r * outFeatures).update(from: base, count: outFeatures) }
        }
        weight.withUnsafeBufferPointer { w in
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures),
                1, x, Int32(inFeatures), w.baseAddress, Int32(inFeatures), 1, y, Int32(outFeatures))
        }
        if gelu { bh_gelu(y, rows * outFeatures) }
    }
}
