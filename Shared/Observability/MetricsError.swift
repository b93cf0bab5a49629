/// Why a metric could not be registered with a ``MetricsRegistry``.
///
/// Registration checks everything up front so that scraping never fails.
public enum MetricsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The metric name does not match `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    case invalidMetricName(String)
    /// A label name does not match `[a-zA-Z_][a-zA-Z0-9_]*`, starts with the reserved
    /// `__`, or is reserved by the metric type (`le` for histograms).
    case invalidLabelName(metric: String, label: String, reason: String)
    /// The same label name appears twice.
    case duplicateLabelName(metric: String, label: String)
    /// Histogram buckets are not strictly increasing, or contain NaN or `-Inf`.
    case invalidBuckets(metric: String, reason: String)
    /// The name (or one of the series names it produces, such as `_count` for a histogram)
    /// is already used by a metric of another type, label set or bucket layout.
    case conflictingRegistration(metric: String, existing: String)

    /// A sentence naming the metric and the problem.
    public var description: String {
        switch self {
        case .invalidMetricName(let name):
            return "invalid metric name \(name.debugDescription): must match [a-zA-Z_:][a-zA-Z0-9_:]*"
        case .invalidLabelName(let metric, let label, let reason):
            return "metric \(metric): invalid label name \(label.debugDescription): \(reason)"
        case .duplicateLabelName(let metric, let label):
            return "metric \(metric): label name \(label.debugDescription) appears more than once"
        case .invalidBuckets(let metric, let reason):
            return "metric \(metric): invalid histogram buckets: \(reason)"
        case .conflictingRegistration(let metric, let existing):
            return "metric \(metric) conflicts with already registered metric \(existing)"
        }
    }
}
