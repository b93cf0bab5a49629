/// The word-embedding matrix, fp32 or int8 with one scale per row (dequantized on lookup).
struct EmbeddingTable: Sendable {
    let columns: Int
    private let floats: [Float]
    private let quantized: [Int8]
    private let scales: [Float]

    /// Rows converted per read when quantizing, so the fp32 table is never whole in memory.
    static let chunkRows = 2048

    /// Builds the table from `load`, which returns the fp32 values of a range of rows.
    init(rows: Int, columns: Int, quantize: Bool, load: (Range<Int>) throws(EmbeddingError) -> [Float]) throws(EmbeddingError) {
        self.columns = columns
        guard quantize else {
            floats = try load(0..<rows)
            quantized = []
            scales = []
            return
        }
        var q: [Int8] = []
        var s: [Float] = []
        q.reserveCapacity(rows * columns)
        s.reserveCapacity(rows)
        for start in stride(from: 0, to: rows, by: Self.chunkRows) {
            let range = start..<min(rows, start + Self.chunkRows)
            let (values, chunkScales) = RowQuantizer.quantize(try load(range), rows: range.count, columns: columns)
            q += values
            s += chunkScales
        }
        quantized = q
        scales = s
        floats = []
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
