/// Formatting for the Prometheus text exposition format, version 0.0.4.
enum PrometheusText {
    /// The `Content-Type` of the rendered text.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Formats a sample value: integral values without exponent or fraction (`42`, `-3`),
    /// `+Inf`, `-Inf`, `NaN`, and otherwise the shortest text that reads back to the same
    /// `Double` (`0.25`, `1e-05`).
    static func formatValue(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Inf" : "+Inf" }
        if value == value.rounded(.towardZero), abs(value) < 9_223_372_036_854_775_808.0 {
            return String(Int64(value))
        }
        return value.description
    }

    /// Escapes a label value: backslash, double quote and newline.
    static func escapeLabelValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == 0x0A }) else {
            return value
        }
        var result = ""
        result.reserveCapacity(value.utf8.count + 8)
        for character in value.unicodeScalars {
            switch character {
            case "\\": result += "\\\\"
            case "\"": result += "\\\""
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// Escapes `# HELP` text: backslash and newline.
    static func escapeHelp(_ help: String) -> String {
        guard help.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == 0x0A }) else { return help }
        var result = ""
        result.reserveCapacity(help.utf8.count + 8)
        for character in help.unicodeScalars {
            switch character {
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            default: result.unicodeScalars.append(character)
            }
        }
        return result
    }

    /// `# HELP` and `# TYPE` lines.
    static func header(name: String, help: String, type: String, into out: inout String) {
        out += "# HELP "
        out += name
        out += " "
        out += escapeHelp(help)
        out += "\n# TYPE "
        out += name
        out += " "
        out += type
        out += "\n"
    }

    /// The label pairs without braces: `a="x",b="y"`; empty when there are no labels.
    static func labelPairs(names: [String], values: [String]) -> String {
        var out = ""
        for (index, name) in names.enumerated() {
            if index > 0 { out += "," }
            out += name
            out += "=\""
            out += escapeLabelValue(index < values.count ? values[index] : "")
            out += "\""
        }
        return out
    }

    /// One sample line: `name{pairs} value`.
    static func sample(name: String, pairs: String, value: Double, into out: inout String) {
        sample(name: name, pairs: pairs, formattedValue: formatValue(value), into: &out)
    }

    /// One sample line with an already formatted value.
    static func sample(name: String, pairs: String, formattedValue: String, into out: inout String) {
        out += name
        if !pairs.isEmpty {
            out += "{"
            out += pairs
            out += "}"
        }
        out += " "
        out += formattedValue
        out += "\n"
    }
}

/// A metric family that can write itself in the text format.
protocol PrometheusRenderable: Sendable {
    /// The family name, used for sorting.
    var name: String { get }
    /// Identifies type, label names and buckets, to tell a repeated registration of the
    /// same metric from a conflicting one.
    var signature: String { get }
    /// The series names this family writes besides its own name (such as `_count`).
    var extraSeriesNames: [String] { get }
    /// Appends `# HELP`, `# TYPE` and the samples.
    func render(into out: inout String)
}
