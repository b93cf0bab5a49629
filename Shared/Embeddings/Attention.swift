import CBulkheadKernels
import Dispatch

/// Multi-head self-attention over packed sequences (fp32, `bh_attention` in `CBulkheadKernels`).
///
/// Each sequence attends only to its own tokens, which is what the reference's attention mask does
/// for right-padded batches. Small per-head products are too small for sgemm's call overhead, so
/// one C kernel does scores, softmax and context per sequence; a large batch is split over two
/// threads by sequence.
struct Attention: @unchecked Sendable {
    // `@unchecked Sendable`: the threads read `qkv` and write disjoint rows of `context`, and
    // `run` returns only after both are done.
    let qkv: UnsafePointer<Float>
    let context: UnsafeMutablePointer<Float>
    let lengths: [Int]
    let offsets: [Int]
    let heads: Int
    let headSize: Int

    /// Tokens below which one thread is faster than handing half the sequences to another.
    static let parallelThreshold = 64

    func run() {
        let total = lengths.reduce(0, +)
        guard lengths.count > 1, total >= Self.parallelThreshold else {
            attend(0..<lengths.count)
            return
        }
        // Split where the work (≈ tokens²) is halved.
        let work = lengths.map { $0 * $0 }
        let half = work.reduce(0, +) / 2
        var split = 0, acc = 0
        while split < lengths.count - 1 && acc + work[split] <= half { acc += work[split]; split += 1 }
        let first = 0..<max(1, split), second = max(1, split)..<lengths.count
        DispatchQueue.concurrentPerform(iterations: 2) { part in
            attend(part == 0 ? first : second)
        }
    }

    private func attend(_ sequences: Range<Int>) {
        let h = heads * headSize
        let longest = sequences.map { lengths[$0] }.max() ?? 0
        guard longest > 0 else { return }
        let scale = 1 / Float(headSize).squareRoot()
        withUnsafeTemporaryAllocation(of: Float.self, capacity: (headSize + 1) * longest) { scratch in
            for s in sequences where lengths[s] > 0 {
                bh_attention(
                    qkv + offsets[s] * 3 * h, Int32(lengths[s]), Int32(heads), Int32(headSize), scale,
                    context + offsets[s] * h, Int32(h), scratch.baseAddress)
            }
        }
    }
}
