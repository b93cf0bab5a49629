#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in real (wall-clock) time: seconds and nanoseconds since the Unix epoch, UTC.
///
/// ``Logger`` stamps every line with ``now()``; tests can inject a fixed value instead.
public struct WallClockTime: Sendable, Hashable, Comparable {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before it).
    public var seconds: Int64
    /// Nanoseconds within the second, `0..<1_000_000_000`.
    public var nanoseconds: Int32

    /// Creates a time from seconds and nanoseconds since the epoch; nanoseconds outside
    /// `0..<1_000_000_000` are carried into seconds.
    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        var seconds = seconds
        var nanos = Int64(nanoseconds)
        seconds += nanos / 1_000_000_000
        nanos %= 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        }
        self.seconds = seconds
        self.nanoseconds = Int32(nanos)
    }

    /// The current time from `clock_gettime(CLOCK_REALTIME)`.
    public static func now() -> WallClockTime {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return WallClockTime(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    /// Seconds since the epoch as a floating-point number.
    public var secondsSinceEpoch: Double {
        Double(seconds) + Double(nanoseconds) / 1_000_000_000
    }

    /// RFC 3339 in UTC with millisecond precision, such as `2024-03-05T07:08:09.123Z`.
    /// Milliseconds are truncated, not rounded, so the text never runs ahead of the clock.
    public var rfc3339: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendRFC3339(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``rfc3339`` as UTF-8 bytes without building an intermediate string.
    func appendRFC3339(to bytes: inout [UInt8]) {
        // Split into days and seconds of the day with floor division.
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let civil = Self.civilDate(daysSinceEpoch: days)
        let hour = Int(secondOfDay / 3600)
        let minute = Int(secondOfDay % 3600 / 60)
        let second = Int(secondOfDay % 60)
        let millisecond = Int(nanoseconds / 1_000_000)

        if civil.year < 0 {
            bytes.append(UInt8(ascii: "-"))
        }
        let year = abs(civil.year)
        if year >= 10_000 {
            bytes.append(contentsOf: String(year).utf8)
        } else {
            appendDigits(year, count: 4, to: &bytes)
        }
        bytes.append(UInt8(ascii: "-"))
        appendDigits(civil.month, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(civil.day, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(hour, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(minute, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(second, count: 2, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(millisecond, count: 3, to: &bytes)
        bytes.append(UInt8(ascii: "Z"))
    }

    private func appendDigits(_ value: Int, count: Int, to bytes: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<count { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Converts days since 1970-01-01 to a proleptic Gregorian date
    /// (Howard Hinnant's `civil_from_days`).
    private static func civilDate(daysSinceEpoch: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }

    /// Orders times chronologically.
    public static func < (lhs: WallClockTime, rhs: WallClockTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }
}
