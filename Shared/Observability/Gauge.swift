import Synchronization

/// One gauge series: a value that can go up and down.
///
/// Get one from ``GaugeFamily/labels(_:)`` once and keep it: every operation is a single
/// atomic store or compare-and-swap, with no locking, lookup or allocation.
public final class Gauge: Sendable {
    private let bits = Atomic<UInt64>(Double(0).bitPattern)

    init() {}

    /// Sets the value.
    @inline(__always)
    public func set(_ value: Double) {
        bits.store(value.bitPattern, ordering: .relaxed)
    }

    /// Sets the value from an integer.
    @inline(__always)
    public func set(_ value: Int) {
        bits.store(Double(value).bitPattern, ordering: .relaxed)
    }

    /// Adds `amount` (one by default).
    @inline(__always)
    public func inc(by amount: Double = 1) {
        bits.addDoubleBits(amount)
    }

    /// Subtracts `amount` (one by default).
    @inline(__always)
    public func dec(by amount: Double = 1) {
        bits.addDoubleBits(-amount)
    }

    /// The current value.
    public var value: Double { bits.loadDouble() }
}
