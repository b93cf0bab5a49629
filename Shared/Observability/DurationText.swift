/// Parsing and printing of durations such as `30s`, `500ms`, `2m`, `1h30m`.
enum DurationText {
    /// Parses a duration. Accepts a plain non-negative number of seconds (`30`, `0.5`) or
    /// one or more `<number><unit>` parts (`500ms`, `1m30s`, `1.5h`) with units `ns`, `us`,
    /// `µs`, `ms`, `s`, `m`, `h`. Returns `nil` for anything else, including negative values
    /// and values beyond about 292 years.
    static func parse(_ text: String) -> Duration? {
        let scalars = Array(text.unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        if let seconds = Double(text), seconds.isFinite, seconds >= 0,
           text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || $0 == "." }) {
            return fromNanoseconds(seconds * 1e9)
        }
        var totalNanoseconds = 0.0
        var index = 0
        while index < scalars.count {
            var number = ""
            while index < scalars.count, ("0"..."9").contains(scalars[index]) || scalars[index] == "." {
                number.unicodeScalars.append(scalars[index])
                index += 1
            }
            var unit = ""
            while index < scalars.count, !("0"..."9").contains(scalars[index]), scalars[index] != "." {
                unit.unicodeScalars.append(scalars[index])
                index += 1
            }
            guard !number.isEmpty, let value = Double(number), value.isFinite else { return nil }
            let scale: Double
            switch unit {
            case "ns": scale = 1
            case "us", "µs", "μs": scale = 1e3
            case "ms": scale = 1e6
            case "s": scale = 1e9
            case "m": scale = 60e9
            case "h": scale = 3600e9
            default: return nil
            }
            totalNanoseconds += value * scale
        }
        return fromNanoseconds(totalNanoseconds)
    }

    private static func fromNanoseconds(_ nanoseconds: Double) -> Duration? {
        guard nanoseconds.isFinite, nanoseconds >= 0, nanoseconds < 9.2e18 else { return nil }
        return .nanoseconds(Int64(nanoseconds.rounded()))
    }

    /// Prints a duration in the largest unit that keeps it whole: `2h`, `90s`, `500ms`,
    /// `250us`, `7ns`; `0s` for zero.
    static func format(_ duration: Duration) -> String {
        let parts = duration.components
        // Whole nanoseconds are enough for configuration values.
        let nanoseconds = parts.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !nanoseconds.overflow else { return "\(parts.seconds)s" }
        let (total, overflow) = nanoseconds.partialValue.addingReportingOverflow(parts.attoseconds / 1_000_000_000)
        guard !overflow else { return "\(parts.seconds)s" }
        if total == 0 { return "0s" }
        let units: [(Int64, String)] = [(3_600_000_000_000, "h"), (60_000_000_000, "m"), (1_000_000_000, "s"),
                                        (1_000_000, "ms"), (1_000, "us")]
        for (size, name) in units where total % size == 0 {
            return "\(total / size)\(name)"
        }
        return "\(total)ns"
    }
}
