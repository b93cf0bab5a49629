import CBulkheadKernels
import Testing

/// The C dot-product kernels: every instruction-set path this CPU has agrees with a
/// double-precision reference, for every length up to 100 (all the vector tails and masks),
/// and the batch forms agree with the single one.
@Suite struct IndexKernelTests {
    @Test func everyPathMatchesTheReference() {
        var rng = SplitMix(state: 17)
        let isas = [0] + [1, 4].filter { bh_vec_available_isas() & Int32($0) != 0 }
        for n in 1...100 {
            let a = (0..<n).map { _ in rng.gaussian() }, b = (0..<n).map { _ in rng.gaussian() }
            let reference = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            for isa in isas {
                let got = bh_vec_dot_using(Int32(isa), a, b, Int32(n))
                #expect(abs(Double(got) - reference) <= 1e-4 * Double(n), "isa \(isa) n \(n): \(got) vs \(reference)")
            }
            #expect(bh_vec_dot(a, b, Int32(n)) == bh_vec_dot_using(bh_vec_active_isa(), a, b, Int32(n)))
        }
    }

    @Test func batchFormsAgreeWithSingleDots() {
        var rng = SplitMix(state: 23)
        let d = 384, rows = 37
        let q = (0..<d).map { _ in rng.gaussian() }
        let matrix = (0..<(rows * d)).map { _ in rng.gaussian() }
        var out = [Float](repeating: 0, count: rows)
        bh_vec_dot_rows(q, matrix, rows, Int32(d), &out)
        let singles = (0..<rows).map { r in bh_vec_dot(q, Array(matrix[(r * d)..<((r + 1) * d)]), Int32(d)) }
        #expect(out == singles)
        let idx: [Int32] = [5, 0, 36, 5, 12]
        var gathered = [Float](repeating: 0, count: idx.count)
        bh_vec_dot_gather(q, matrix, idx, Int32(idx.count), Int32(d), &gathered)
        #expect(gathered == idx.map { singles[Int($0)] })
        var best: Float = 0
        let arg = bh_vec_argmax_rows(q, matrix, rows, Int32(d), &best)
        #expect(arg == singles.indices.max { singles[$0] < singles[$1] }.map { $0 })
        #expect(best == singles.max())
        #expect(bh_vec_argmax_rows(q, matrix, 0, Int32(d), &best) == -1)
    }
}
