/// Checks metric and label names against the Prometheus data model.
enum MetricNameValidator {
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isValidMetricName(_ name: String) -> Bool {
        var first = true
        for byte in name.utf8 {
            let ok = isLetter(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":")
                || (!first && isDigit(byte))
            if !ok { return false }
            first = false
        }
        return !first
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`, and not reserved by the metric type.
    static func validateLabelNames(_ labels: [String], metric: String, reserved: Set<String> = []) throws(MetricsError) {
        var seen = Set<String>()
        for label in labels {
            var first = true
            for byte in label.utf8 {
                let ok = isLetter(byte) || byte == UInt8(ascii: "_") || (!first && isDigit(byte))
                if !ok {
                    throw .invalidLabelName(metric: metric, label: label, reason: "must match [a-zA-Z_][a-zA-Z0-9_]*")
                }
                first = false
            }
            if first {
                throw .invalidLabelName(metric: metric, label: label, reason: "must not be empty")
            }
            if label.hasPrefix("__") {
                throw .invalidLabelName(metric: metric, label: label, reason: "names starting with __ are reserved")
            }
            if reserved.contains(label) {
                throw .invalidLabelName(metric: metric, label: label, reason: "reserved for this metric type")
            }
            if !seen.insert(label).inserted {
                throw .duplicateLabelName(metric: metric, label: label)
            }
        }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
