import Synchronization

/// One histogram series: counts observations into buckets and keeps their sum.
///
/// Get one from ``HistogramFamily/labels(_:)`` once and keep it: ``observe(_:)`` is a
/// binary search over the bucket bounds, one atomic add and one compare-and-swap, with no
/// locking, lookup or allocation.
///
/// Bucket counts are stored per bucket and made cumulative when rendered; the rendered
/// `_count` equals the `+Inf` bucket, so the two always agree within one scrape.
public final class Histogram: @unchecked Sendable {
    // @unchecked: `counts` points at atomics allocated in `init` and freed in `deinit`;
    // they are only touched through atomic operations, so sharing across threads is safe.

    /// The default buckets, for latencies in seconds:
    /// 0.5 ms, 1 ms, 2.5 ms, 5 ms, 10 ms, 25 ms, 50 ms, 100 ms, 250 ms, 500 ms, 1 s, 2.5 s, 5 s, 10 s
    /// (plus `+Inf`, which every histogram has).
    public static let defaultBuckets: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// The finite upper bounds, strictly increasing. The implicit `+Inf` bucket is not listed.
    public let upperBounds: [Double]
    /// `upperBounds.count + 1` counters: one per finite bucket, then the `+Inf` overflow.
    private let counts: UnsafeMutablePointer<Atomic<UInt64>>
    private let sumBits = Atomic<UInt64>(Double(0).bitPattern)

    /// `upperBounds` must already be validated (see ``HistogramFamily``).
    init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        let slots = upperBounds.count + 1
        counts = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: slots)
        for index in 0..<slots {
            (counts + index).initialize(to: Atomic(0))
        }
    }

    deinit {
        counts.deinitialize(count: upperBounds.count + 1)
        counts.deallocate()
    }

    /// Records one observation. NaN counts in the `+Inf` bucket and makes the sum NaN.
    public func observe(_ value: Double) {
        let index = upperBounds.withUnsafeBufferPointer { bounds in
            // First bucket whose upper bound is >= value (Prometheus `le` semantics).
            var low = 0
            var high = bounds.count
            while low < high {
                let middle = (low &+ high) >> 1
                if value <= bounds[middle] { high = middle } else { low = middle &+ 1 }
            }
            return low
        }
        counts[index].wrappingAdd(1, ordering: .relaxed)
        sumBits.addDoubleBits(value)
    }

    /// Records a duration in seconds.
    public func observe(_ duration: Duration) {
        let parts = duration.components
        observe(Double(parts.seconds) + Double(parts.attoseconds) / 1e18)
    }

    /// Records the time elapsed since `start` on the continuous clock, in seconds.
    public func observe(since start: ContinuousClock.Instant) {
        observe(ContinuousClock.now - start)
    }

    /// The number of observations.
    public var count: UInt64 {
        var total: UInt64 = 0
        for index in 0...upperBounds.count {
            total &+= counts[index].load(ordering: .relaxed)
        }
        return total
    }

    /// The sum of all observations.
    public var sum: Double { sumBits.loadDouble() }

    /// Cumulative bucket counts, one per finite bound and a last one for `+Inf`
    /// (which is also the total count), and the sum.
    func snapshot() -> (cumulative: [UInt64], sum: Double) {
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(upperBounds.count + 1)
        var running: UInt64 = 0
        for index in 0...upperBounds.count {
            running &+= counts[index].load(ordering: .relaxed)
            cumulative.append(running)
        }
        return (cumulative, sumBits.loadDouble())
    }
}
