/// A counter metric: a name, help text, label names, and one ``Counter`` per set of label values.
///
/// Made by ``MetricsRegistry/counter(_:help:labelNames:)``. By convention counter names end in `_total`.
///
/// ```swift
/// let requests = try registry.counter("http_requests_total", help: "Requests.", labelNames: ["method", "route", "status"])
/// let getOK = requests.labels("GET", "/v1/x", "200")   // resolve once, keep the handle
/// getOK.inc()                                         // hot path: one atomic add
/// ```
public final class CounterFamily: Sendable, PrometheusRenderable {
    /// The metric name.
    public let name: String
    /// The help text.
    public let help: String
    /// The label names, in order.
    public var labelNames: [String] { store.labelNames }

    private let store: ChildStore<Counter>
    /// The only child when there are no labels, resolved at registration.
    private let unlabelled: Counter?

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        let store = ChildStore<Counter>(metricName: name, labelNames: labelNames, make: { Counter() })
        self.store = store
        unlabelled = labelNames.isEmpty ? store.child(.none) : nil
    }

    /// The counter for one set of label values, in the order of ``labelNames``; created on
    /// first use and the same object afterwards. Keep the result to skip the lookup next time.
    ///
    /// The count of values must equal the count of label names; a mismatch is a programming
    /// error and stops the program with a message naming the metric.
    public func labels(_ values: String...) -> Counter { labels(values) }

    /// The counter for one label value, without allocating.
    public func labels(_ value: String) -> Counter { store.child(.one(value)) }

    /// The counter for two label values, without allocating.
    public func labels(_ first: String, _ second: String) -> Counter { store.child(.two(first, second)) }

    /// The counter for three label values, without allocating.
    public func labels(_ first: String, _ second: String, _ third: String) -> Counter {
        store.child(.three(first, second, third))
    }

    /// The counter for label values given as an array.
    public func labels(_ values: [String]) -> Counter {
        if values.isEmpty, let unlabelled { return unlabelled }
        return store.child(LabelKey(values))
    }

    /// Forgets the series for these label values; it disappears from the output.
    /// Handles already held keep working but are no longer rendered.
    public func remove(_ values: String...) { store.remove(LabelKey(values)) }

    /// Adds one to the counter of a family without labels.
    public func inc() { requireUnlabelled().inc() }

    /// Adds `amount` to the counter of a family without labels.
    public func inc(by amount: Int) { requireUnlabelled().inc(by: amount) }

    /// Adds `amount` to the counter of a family without labels.
    public func inc(by amount: Double) { requireUnlabelled().inc(by: amount) }

    /// The value of a family without labels.
    public var value: Double { requireUnlabelled().value }

    private func requireUnlabelled() -> Counter {
        guard let unlabelled else {
            preconditionFailure("metric \(name) has labels \(labelNames); use labels(...) to pick a series")
        }
        return unlabelled
    }

    var signature: String { "counter|" + labelNames.joined(separator: ",") }
    var extraSeriesNames: [String] { [] }

    func render(into out: inout String) {
        PrometheusText.header(name: name, help: help, type: "counter", into: &out)
        for (values, counter) in store.sortedSnapshot() {
            PrometheusText.sample(
                name: name, pairs: PrometheusText.labelPairs(names: labelNames, values: values),
                value: counter.value, into: &out)
        }
    }
}
