/// The word-embedding matrix, fp32 or int8 with one scale per row (dequantized on lookup).
struct EmbeddingTable: Sendable {
    let columns: Int
    private let floats: [Float]
    private let quantized: [Int8]
    private let scales: [Float]

    init(values: [Float], rows: Int, columns: Int, quantize: Bool) {
        self.columns = columns
        if quantize {
            (quantized, scales) = RowQuantizer.quantize(values, rows: rows, columns: columns)
            floats = []
        } else {
            floats = values
            quantized = []
            scales = []
        }
    }

    var byteCount: Int { floats.count * 4 + quantized.count + scales.count * 4 }

    /// Writes row `index` to `out` (`columns` floats).
    func row(_ index: Int, into out: UnsafeMutablePointer<Float>) {
        let start = index * columns
        if quantized.isEmpty {
            for j in 0..<columns { out[j] = floats[start + j] }
        } else {
            let s = scales[index]
            for j in 0..<columns { out[j] = Float(quantized[start + j]) * s }
        }
    }
}
