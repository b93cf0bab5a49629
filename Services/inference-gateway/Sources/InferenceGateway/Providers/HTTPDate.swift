import Foundation

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), as `Retry-After` may carry.
enum HTTPDate {
    /// Seconds since 1970, or nil when `text` is not an HTTP date.
    static func parse(_ text: String) -> Double? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: text)?.timeIntervalSince1970
    }

    static func format(secondsSince1970: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date(timeIntervalSince1970: secondsSince1970))
    }
}

/// Wall-clock seconds.
enum WallClock {
    static var nowSeconds: Double { Date().timeIntervalSince1970 }
}
