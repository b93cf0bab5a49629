/// A gauge metric: a name, help text, label names, and one ``Gauge`` per set of label values.
///
/// Made by ``MetricsRegistry/gauge(_:help:labelNames:)``. For values computed when scraped,
/// use ``MetricsRegistry/callbackGauge(_:help:value:)`` instead.
public final class GaugeFamily: Sendable, PrometheusRenderable {
    /// The metric name.
    public let name: String
    /// The help text.
    public let help: String
    /// The label names, in order.
    public var labelNames: [String] { store.labelNames }

    private let store: ChildStore<Gauge>
    private let unlabelled: Gauge?

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        let store = ChildStore<Gauge>(metricName: name, labelNames: labelNames, make: { Gauge() })
        self.store = store
        unlabelled = labelNames.isEmpty ? store.child(.none) : nil
    }

    /// The gauge for one set of label values, in the order of ``labelNames``; created on
    /// first use and the same object afterwards. Keep the result to skip the lookup next time.
    ///
    /// The count of values must equal the count of label names; a mismatch is a programming
    /// error and stops the program with a message naming the metric.
    public func labels(_ values: String...) -> Gauge { labels(values) }

    /// The gauge for one label value, without allocating.
    public func labels(_ value: String) -> Gauge { store.child(.one(value)) }

    /// The gauge for two label values, without allocating.
    public func labels(_ first: String, _ second: String) -> Gauge { store.child(.two(first, second)) }

    /// The gauge for three label values, without allocating.
    public func labels(_ first: String, _ second: String, _ third: String) -> Gauge {
        store.child(.three(first, second, third))
    }

    /// The gauge for label values given as an array.
    public func labels(_ values: [String]) -> Gauge {
        if values.isEmpty, let unlabelled { return unlabelled }
        return store.child(LabelKey(values))
    }

    /// Forgets the series for these label values; it disappears from the output.
    public func remove(_ values: String...) { store.remove(LabelKey(values)) }

    /// Sets the gauge of a family without labels.
    public func set(_ value: Double) { requireUnlabelled().set(value) }

    /// Sets the gauge of a family without labels.
    public func set(_ value: Int) { requireUnlabelled().set(value) }

    /// Adds to the gauge of a family without labels.
    public func inc(by amount: Double = 1) { requireUnlabelled().inc(by: amount) }

    /// Subtracts from the gauge of a family without labels.
    public func dec(by amount: Double = 1) { requireUnlabelled().dec(by: amount) }

    /// The value of a family without labels.
    public var value: Double { requireUnlabelled().value }

    private func requireUnlabelled() -> Gauge {
        guard let unlabelled else {
            preconditionFailure("metric \(name) has labels \(labelNames); use labels(...) to pick a series")
        }
        return unlabelled
    }

    var signature: String { "gauge|" + labelNames.joined(separator: ",") }
    var extraSeriesNames: [String] { [] }

    func render(into out: inout String) {
        PrometheusText.header(name: name, help: help, type: "gauge", into: &out)
        for (values, gauge) in store.sortedSnapshot() {
            PrometheusText.sample(
                name: name, pairs: PrometheusText.labelPairs(names: labelNames, values: values),
                value: gauge.value, into: &out)
        }
    }
}
