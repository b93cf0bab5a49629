extension String {
    /// The string without leading and trailing spaces, tabs, carriage returns and newlines.
    func trimmingOWS() -> String {
        let utf8 = self.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, Self.isOWS(utf8[start]) { start = utf8.index(after: start) }
        while end > start {
            let before = utf8.index(before: end)
            if Self.isOWS(utf8[before]) { end = before } else { break }
        }
        if start == utf8.startIndex && end == utf8.endIndex { return self }
        return String(Substring(utf8[start..<end]))
    }

    private static func isOWS(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}
