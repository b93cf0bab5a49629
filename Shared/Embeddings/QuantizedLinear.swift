import CBulkheadKernels
import Dispatch

/// int8 weights with one fp32 scale per output row (symmetric, `scale = max|w| / 127`), computed
/// at load and packed in the layout of the `CBulkheadKernels` int8 GEMM.
///
/// Each call quantizes the activations per row (dynamic, symmetric int8), multiplies in int8 with
/// int32 accumulation (AVX-512 VNNI `vpdpbusd` where the CPU has it, chosen at run time), and
/// dequantizes with row scale × activation scale before adding the bias (and GELU, fused).
public struct QuantizedLinear: LinearLayer {
    let packed: [Int8]
    let rowSums: [Int32]
    let scales: [Float]
    let bias: [Float]
    public let inFeatures: Int
    public let outFeatures: Int
    public var byteCount: Int { packed.count + (rowSums.count + scales.count + bias.count) * 4 }

    /// Multiply-adds above which a call is split over two threads (below, the hand-off costs more than it saves).
    static let parallelThreshold = 1 << 22

    /// Quantizes fp32 weights `[outFeatures, inFeatures]` (row-major) per output row.
    public init(weight: [Float], bias: [Float], inFeatures: Int, outFeatures: Int) {
        self.init(quantizing: DenseLinear(weight: weight, bias: bias, inFeatures: inFeatures, outFeatures: outFeatures))
    }

    /// Quantizes a dense layer's weights per output row.
    init(quantizing dense: DenseLinear) {
        let n = dense.outFeatures, k = dense.inFeatures
        inFeatures = k
        outFeatures = n
        bias = dense.bias
        let (weight, scales) = RowQuantizer.quantize(dense.weight, rows: n, columns: k)
        self.scales = scales
        var sums = [Int32](repeating: 0, count: n)
        packed = [Int8](unsafeUninitializedCapacity: bh_qgemm_packed_bytes(Int32(n), Int32(k))) { out, initialized in
            weight.withUnsafeBufferPointer { w in
                sums.withUnsafeMutableBufferPointer { s in
                    bh_qgemm_pack(w.baseAddress, Int32(n), Int32(k), out.baseAddress, s.baseAddress)
                }
            }
            initialized = out.count
        }
        rowSums = sums
    }

    public func forward(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, gelu: Bool) {
        guard rows > 0 else { return }
        let n = outFeatures, k = inFeatures
        let k4 = Int(bh_qgemm_padded_k(Int32(k)))
        withUnsafeTemporaryAllocation(of: Int8.self, capacity: rows * k4) { qa in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: rows) { qs in
                guard let a = qa.baseAddress, let aScales = qs.baseAddress else { return }
                bh_quantize_rows(x, Int32(rows), Int32(k), a, aScales)
                packed.withUnsafeBufferPointer { p in
                    rowSums.withUnsafeBufferPointer { sums in
                        scales.withUnsafeBufferPointer { ws in
                            bias.withUnsafeBufferPointer { b in
                                let call = QGemmCall(
                                    rows: Int32(rows), n: Int32(n), k: Int32(k), a: a, aScales: aScales, packed: p.baseAddress,
                                    rowSums: sums.baseAddress, scales: ws.baseAddress, bias: b.baseAddress, y: y, gelu: gelu ? 1 : 0)
                                if rows * n * k >= Self.parallelThreshold && n >= 32 {
                                    // Two column halves (a multiple of 16 apart) on the two cores.
                                    let half = (n / 2 + 15) / 16 * 16
                                    DispatchQueue.concurrentPerform(iterations: 2) { part in
                                        if part == 0 { call.run(0, half) } else { call.run(half, n) }
                                    }
                                } else {
                                    call.run(0, n)
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The arguments of one `bh_qgemm` call, shared by the threads that compute its column ranges.
/// `@unchecked Sendable`: the threads only read the inputs and write disjoint columns of `y`,
/// and `forward` waits for all of them before the buffers go away.
private struct QGemmCall: @unchecked Sendable {
    let rows, n, k: Int32
    let a: UnsafePointer<Int8>
    let aScales: UnsafePointer<Float>
    let packed: UnsafePointer<Int8>?
    let rowSums: UnsafePointer<Int32>?
    let scales: UnsafePointer<Float>?
    let bias: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>
    let gelu: Int32

    func run(_ begin: Int, _ end: Int) {
        bh_qgemm(rows, n, k, a, aScales, packed, rowSums, scales, bias, y, Int32(begin), Int32(end), gelu)
    }
}

/// Symmetric per-row int8 quantization.
enum RowQuantizer {
    static func quantize(_ values: [Float], rows: Int, columns: Int) -> (values: [Int8], scales: [Float]) {
        var q = [Int8](repeating: 0, count: rows * columns)
        var scales = [Float](repeating: 0, count: rows)
        values.withUnsafeBufferPointer { v in
            q.withUnsafeMutableBufferPointer { out in
                for r in 0..<rows {
                    var m: Float = 0
                    for c in 0..<columns { m = max(m, abs(v[r * columns + c])) }
                    let scale = m > 0 ? m / 127 : 1
                    scales[r] = scale
                    for c in 0..<columns {
                        out[r * columns + c] = Int8(max(-127, min(127, (v[r * columns + c] / scale).rounded())))
                    }
                }
            }
        }
        return (q, scales)
    }
}
