/// A gauge whose value is computed when the registry is rendered, such as a queue depth or
/// a pool size that another component already tracks.
///
/// Made by ``MetricsRegistry/callbackGauge(_:help:value:)`` (one series) or
/// ``MetricsRegistry/callbackGauge(_:help:labelNames:samples:)`` (labelled series).
/// The closure runs on the scraping thread, outside the registry's lock; keep it fast and
/// thread-safe.
public final class CallbackGauge: Sendable, PrometheusRenderable {
    /// One labelled value returned by a callback.
    public struct Sample: Sendable, Hashable {
        /// Label values in the order of the gauge's label names.
        public var labelValues: [String]
        /// The value.
        public var value: Double

        /// Creates a sample.
        public init(labelValues: [String], value: Double) {
            self.labelValues = labelValues
            self.value = value
        }
    }

    /// The metric name.
    public let name: String
    /// The help text.
    public let help: String
    /// The label names, in order.
    public let labelNames: [String]
    private let samples: @Sendable () -> [Sample]

    init(name: String, help: String, labelNames: [String], samples: @escaping @Sendable () -> [Sample]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.samples = samples
    }

    /// The samples the callback returns now.
    public func currentSamples() -> [Sample] { samples() }

    /// Each registration owns its closure, so a second registration under the same name
    /// always conflicts.
    var signature: String { "callback-gauge|" + String(describing: ObjectIdentifier(self)) }
    var extraSeriesNames: [String] { [] }

    /// Samples with the wrong number of label values are skipped rather than producing
    /// malformed output; samples are sorted by label values.
    func render(into out: inout String) {
        PrometheusText.header(name: name, help: help, type: "gauge", into: &out)
        let current = samples()
            .filter { $0.labelValues.count == labelNames.count }
            .sorted { $0.labelValues.lexicographicallyPrecedes($1.labelValues) }
        for sample in current {
            PrometheusText.sample(
                name: name, pairs: PrometheusText.labelPairs(names: labelNames, values: sample.labelValues),
                value: sample.value, into: &out)
        }
    }
}
