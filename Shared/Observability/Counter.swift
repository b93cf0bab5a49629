import Synchronization

/// One counter series: a value that only goes up.
///
/// Get one from ``CounterFamily/labels(_:)`` once and keep it: incrementing is a single
/// atomic add, with no locking, lookup or allocation.
public final class Counter: Sendable {
    /// Whole-number increments, kept exact and cheap.
    private let whole = Atomic<UInt64>(0)
    /// Fractional increments, as `Double` bits.
    private let fraction = Atomic<UInt64>(Double(0).bitPattern)

    init() {}

    /// Adds one.
    @inline(__always)
    public func inc() {
        whole.wrappingAdd(1, ordering: .relaxed)
    }

    /// Adds `amount`; zero and negative amounts are ignored (counters never go down).
    @inline(__always)
    public func inc(by amount: Int) {
        guard amount > 0 else { return }
        whole.wrappingAdd(UInt64(amount), ordering: .relaxed)
    }

    /// Adds `amount`; negative amounts and NaN are ignored (counters never go down).
    public func inc(by amount: Double) {
        guard amount > 0 else { return }
        if amount < 9_007_199_254_740_992, amount == amount.rounded(.towardZero) {
            whole.wrappingAdd(UInt64(amount), ordering: .relaxed)
        } else {
            fraction.addDoubleBits(amount)
        }
    }

    /// The current total.
    public var value: Double {
        Double(whole.load(ordering: .relaxed)) + fraction.loadDouble()
    }
}
