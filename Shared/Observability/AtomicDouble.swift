import Synchronization

extension Atomic where Value == UInt64 {
    /// Treats the stored bits as a `Double` and adds `amount` with a compare-and-swap loop.
    @inline(__always)
    func addDoubleBits(_ amount: Double) {
        var current = load(ordering: .relaxed)
        while true {
            let next = (Double(bitPattern: current) + amount).bitPattern
            let (exchanged, original) = weakCompareExchange(
                expected: current, desired: next, successOrdering: .relaxed, failureOrdering: .relaxed)
            if exchanged { return }
            current = original
        }
    }

    /// The stored bits as a `Double`.
    @inline(__always)
    func loadDouble() -> Double {
        Double(bitPattern: load(ordering: .relaxed))
    }
}
