/// A histogram metric: a name, help text, label names, bucket bounds, and one
/// ``Histogram`` per set of label values.
///
/// Made by ``MetricsRegistry/histogram(_:help:labelNames:buckets:)``. Renders, per series,
/// cumulative `_bucket{le="..."}` lines ending with `le="+Inf"`, then `_sum` and `_count`.
public final class HistogramFamily: Sendable, PrometheusRenderable {
    /// The metric name.
    public let name: String
    /// The help text.
    public let help: String
    /// The label names, in order (never containing `le`).
    public var labelNames: [String] { store.labelNames }
    /// The finite bucket upper bounds, strictly increasing; `+Inf` is implicit.
    public let upperBounds: [Double]

    private let store: ChildStore<Histogram>
    private let unlabelled: Histogram?
    /// `le` values, formatted once: one per finite bound, then `+Inf`.
    private let leValues: [String]

    /// `buckets` are validated and normalized by ``normalizeBuckets(_:metric:)`` first.
    init(name: String, help: String, labelNames: [String], upperBounds: [Double]) {
        self.name = name
        self.help = help
        self.upperBounds = upperBounds
        let store = ChildStore<Histogram>(metricName: name, labelNames: labelNames, make: { Histogram(upperBounds: upperBounds) })
        self.store = store
        unlabelled = labelNames.isEmpty ? store.child(.none) : nil
        leValues = upperBounds.map(PrometheusText.formatValue) + ["+Inf"]
    }

    /// Checks that buckets are strictly increasing and contain no NaN or `-Inf`, and drops a
    /// trailing `+Inf` (always present implicitly).
    static func normalizeBuckets(_ buckets: [Double], metric: String) throws(MetricsError) -> [Double] {
        var bounds = buckets
        if let last = bounds.last, last == .infinity { bounds.removeLast() }
        for (index, bound) in bounds.enumerated() {
            if bound.isNaN { throw .invalidBuckets(metric: metric, reason: "NaN is not a bucket bound") }
            if bound.isInfinite { throw .invalidBuckets(metric: metric, reason: "only the last bound may be +Inf") }
            if index > 0, !(bounds[index - 1] < bound) {
                throw .invalidBuckets(metric: metric, reason: "bounds must be strictly increasing")
            }
        }
        return bounds
    }

    /// The histogram for one set of label values, in the order of ``labelNames``; created on
    /// first use and the same object afterwards. Keep the result to skip the lookup next time.
    ///
    /// The count of values must equal the count of label names; a mismatch is a programming
    /// error and stops the program with a message naming the metric.
    public func labels(_ values: String...) -> Histogram { labels(values) }

    /// The histogram for one label value, without allocating.
    public func labels(_ value: String) -> Histogram { store.child(.one(value)) }

    /// The histogram for two label values, without allocating.
    public func labels(_ first: String, _ second: String) -> Histogram { store.child(.two(first, second)) }

    /// The histogram for three label values, without allocating.
    public func labels(_ first: String, _ second: String, _ third: String) -> Histogram {
        store.child(.three(first, second, third))
    }

    /// The histogram for label values given as an array.
    public func labels(_ values: [String]) -> Histogram {
        if values.isEmpty, let unlabelled { return unlabelled }
        return store.child(LabelKey(values))
    }

    /// Forgets the series for these label values; it disappears from the output.
    public func remove(_ values: String...) { store.remove(LabelKey(values)) }

    /// Records an observation in a family without labels.
    public func observe(_ value: Double) { requireUnlabelled().observe(value) }

    /// Records a duration, in seconds, in a family without labels.
    public func observe(_ duration: Duration) { requireUnlabelled().observe(duration) }

    private func requireUnlabelled() -> Histogram {
        guard let unlabelled else {
            preconditionFailure("metric \(name) has labels \(labelNames); use labels(...) to pick a series")
        }
        return unlabelled
    }

    var signature: String {
        "histogram|" + labelNames.joined(separator: ",") + "|" + leValues.joined(separator: ",")
    }

    var extraSeriesNames: [String] { [name + "_bucket", name + "_sum", name + "_count"] }

    func render(into out: inout String) {
        PrometheusText.header(name: name, help: help, type: "histogram", into: &out)
        let bucketName = name + "_bucket"
        let sumName = name + "_sum"
        let countName = name + "_count"
        for (values, histogram) in store.sortedSnapshot() {
            let pairs = PrometheusText.labelPairs(names: labelNames, values: values)
            let prefix = pairs.isEmpty ? "" : pairs + ","
            let (cumulative, sum) = histogram.snapshot()
            for (index, le) in leValues.enumerated() {
                PrometheusText.sample(
                    name: bucketName, pairs: prefix + "le=\"" + le + "\"",
                    formattedValue: String(cumulative[index]), into: &out)
            }
            PrometheusText.sample(name: sumName, pairs: pairs, value: sum, into: &out)
            PrometheusText.sample(
                name: countName, pairs: pairs, formattedValue: String(cumulative[leValues.count - 1]), into: &out)
        }
    }
}
