import Synchronization

/// A thread-safe set of metrics that renders in the Prometheus text format 0.0.4.
///
/// Register metrics at startup; names, label names and buckets are checked then and
/// problems are thrown as ``MetricsError``, so rendering never fails. Registering the same
/// name again with the same type, label names (and buckets) returns the existing family,
/// so independent components can share a metric; anything else that reuses a name — or
/// a series name such as a histogram's `_count` — throws ``MetricsError/conflictingRegistration(metric:existing:)``.
///
/// ```swift
/// let registry = MetricsRegistry()
/// let latency = try registry.histogram("http_request_duration_seconds", help: "Latency.", labelNames: ["route"])
/// let route = latency.labels("/v1/x")     // keep this handle on the hot path
/// route.observe(0.004)
/// let text = registry.render()            // serve with MetricsRegistry.contentType
/// ```
public final class MetricsRegistry: Sendable {
    /// The `Content-Type` for ``render()`` output:
    /// `text/plain; version=0.0.4; charset=utf-8`.
    public static let contentType = PrometheusText.contentType

    private struct State {
        var families: [String: any PrometheusRenderable] = [:]
        /// Every family and series name in use, mapped to the family that uses it.
        var claimed: [String: String] = [:]
    }

    private let state: Mutex<State>
    private let processMetrics: ProcessMetrics?

    /// Creates an empty registry.
    ///
    /// - Parameter includeProcessMetrics: When true (the default), ``render()`` also writes
    ///   `process_cpu_seconds_total`, `process_resident_memory_bytes`,
    ///   `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds` and
    ///   `process_start_time_seconds`, read from `/proc` at render time; those names are
    ///   then reserved.
    public init(includeProcessMetrics: Bool = true) {
        var initial = State()
        if includeProcessMetrics {
            for name in ProcessMetrics.names { initial.claimed[name] = name }
            processMetrics = ProcessMetrics()
        } else {
            processMetrics = nil
        }
        state = Mutex(initial)
    }

    /// Registers (or returns the existing) counter family.
    ///
    /// - Throws: ``MetricsError`` for an invalid name or label name, or a conflicting registration.
    public func counter(_ name: String, help: String, labelNames: [String] = []) throws(MetricsError) -> CounterFamily {
        try validate(name: name, labelNames: labelNames)
        return try register(
            name: name, signature: "counter|" + labelNames.joined(separator: ","), as: CounterFamily.self
        ) { CounterFamily(name: name, help: help, labelNames: labelNames) }
    }

    /// Registers (or returns the existing) gauge family.
    ///
    /// - Throws: ``MetricsError`` for an invalid name or label name, or a conflicting registration.
    public func gauge(_ name: String, help: String, labelNames: [String] = []) throws(MetricsError) -> GaugeFamily {
        try validate(name: name, labelNames: labelNames)
        return try register(
            name: name, signature: "gauge|" + labelNames.joined(separator: ","), as: GaugeFamily.self
        ) { GaugeFamily(name: name, help: help, labelNames: labelNames) }
    }

    /// Registers (or returns the existing) histogram family.
    ///
    /// - Parameters:
    ///   - buckets: Finite upper bounds, strictly increasing; a trailing `+Inf` is allowed
    ///     and implied anyway. Defaults to ``Histogram/defaultBuckets`` (latency in seconds).
    /// - Throws: ``MetricsError`` for an invalid name, label name (including `le`), buckets,
    ///   or a conflicting registration.
    public func histogram(
        _ name: String, help: String, labelNames: [String] = [], buckets: [Double] = Histogram.defaultBuckets
    ) throws(MetricsError) -> HistogramFamily {
        try validate(name: name, labelNames: labelNames, reserved: ["le"])
        let bounds = try HistogramFamily.normalizeBuckets(buckets, metric: name)
        let family = HistogramFamily(name: name, help: help, labelNames: labelNames, upperBounds: bounds)
        return try register(name: name, signature: family.signature, as: HistogramFamily.self) { family }
    }

    /// Registers a gauge with one series whose value `value` computes at render time.
    ///
    /// - Throws: ``MetricsError`` for an invalid name, or when the name is already used.
    @discardableResult
    public func callbackGauge(
        _ name: String, help: String, value: @escaping @Sendable () -> Double
    ) throws(MetricsError) -> CallbackGauge {
        try callbackGauge(name, help: help, labelNames: []) { [CallbackGauge.Sample(labelValues: [], value: value())] }
    }

    /// Registers a gauge whose labelled series `samples` returns at render time. Samples with
    /// the wrong number of label values are skipped.
    ///
    /// - Throws: ``MetricsError`` for an invalid name or label name, or when the name is already used.
    @discardableResult
    public func callbackGauge(
        _ name: String, help: String, labelNames: [String], samples: @escaping @Sendable () -> [CallbackGauge.Sample]
    ) throws(MetricsError) -> CallbackGauge {
        try validate(name: name, labelNames: labelNames)
        let gauge = CallbackGauge(name: name, help: help, labelNames: labelNames, samples: samples)
        return try register(name: name, signature: gauge.signature, as: CallbackGauge.self) { gauge }
    }

    /// Removes a family by name; its series disappear from the output and the name may be
    /// registered again. Handles already held keep working but are no longer rendered.
    public func unregister(_ name: String) {
        state.withLock { state in
            guard let family = state.families.removeValue(forKey: name) else { return }
            for series in [family.name] + family.extraSeriesNames where state.claimed[series] == name {
                state.claimed.removeValue(forKey: series)
            }
        }
    }

    /// The names of all registered families (process metrics excluded), sorted.
    public var familyNames: [String] {
        state.withLock { Array($0.families.keys) }.sorted()
    }

    /// Renders every family in the Prometheus text exposition format 0.0.4, families sorted
    /// by name and series sorted by label values, each family with `# HELP` and `# TYPE`.
    ///
    /// Callback gauges and process metrics are evaluated now, outside the registry's lock.
    public func render() -> String {
        let families = state.withLock { state in Array(state.families.values) }
        var parts: [(name: String, text: String)] = []
        parts.reserveCapacity(families.count + ProcessMetrics.names.count)
        for family in families {
            var text = ""
            family.render(into: &text)
            parts.append((family.name, text))
        }
        if let processMetrics {
            for family in processMetrics.collect() { parts.append((family.name, family.text)) }
        }
        parts.sort { $0.name < $1.name }
        var out = ""
        out.reserveCapacity(parts.reduce(0) { $0 + $1.text.utf8.count })
        for part in parts { out += part.text }
        return out
    }

    private func validate(name: String, labelNames: [String], reserved: Set<String> = []) throws(MetricsError) {
        guard MetricNameValidator.isValidMetricName(name) else { throw .invalidMetricName(name) }
        try MetricNameValidator.validateLabelNames(labelNames, metric: name, reserved: reserved)
    }

    /// Returns the existing family when `name` is registered with the same signature,
    /// otherwise claims its names and stores the family `make` returns.
    private func register<Family: PrometheusRenderable>(
        name: String, signature: String, as type: Family.Type, make: () -> Family
    ) throws(MetricsError) -> Family {
        let result: Result<Family, MetricsError> = state.withLock { state in
            if let existing = state.families[name] {
                if existing.signature == signature, let same = existing as? Family { return .success(same) }
                return .failure(.conflictingRegistration(metric: name, existing: existing.name))
            }
            let family = make()
            // The family's own name and its series names (a histogram `x` also writes
            // `x_bucket`, `x_sum`, `x_count`) must all be free.
            let seriesNames = [name] + family.extraSeriesNames
            for series in seriesNames {
                if let owner = state.claimed[series] {
                    return .failure(.conflictingRegistration(metric: name, existing: owner))
                }
            }
            for series in seriesNames { state.claimed[series] = name }
            state.families[name] = family
            return .success(family)
        }
        return try result.get()
    }
}
