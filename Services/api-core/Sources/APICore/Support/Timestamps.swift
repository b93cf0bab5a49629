import Foundation

/// Time in the public API: RFC 3339 UTC strings with milliseconds; internally milliseconds since 1970.
enum Timestamps {
    static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }

    /// `2026-11-24T14:55:15.123Z`.
    static func rfc3339(_ millis: Int64) -> String {
        let seconds = millis / 1000
        let ms = Int(millis % 1000)
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), ms)
    }

    /// The UTC day `YYYY-MM-DD` of a time.
    static func day(_ millis: Int64) -> String { String(rfc3339(millis).prefix(10)) }

    /// Parses `YYYY-MM-DD` into the day number since 1970-01-01 (nil when malformed or not a real date).
    static func dayNumber(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.utf8.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m), d >= 1, y >= 1970, y <= 9999
        else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard d <= lengths[m - 1] else { return nil }
        // Days from civil (Howard Hinnant's algorithm).
        let yy = m <= 2 ? y - 1 : y
        let era = yy / 400
        let yoe = yy - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    /// The `YYYY-MM-DD` of a day number.
    static func dayText(_ dayNumber: Int) -> String { day(Int64(dayNumber) * 86_400_000) }

    /// Seconds until the next UTC midnight (at least 1).
    static func secondsToNextUTCMidnight(_ millis: Int64 = nowMillis()) -> Int {
        let s = millis / 1000
        return max(1, Int(86_400 - s % 86_400))
    }
}
