/// Request ids the ingress accepts from clients or makes up, so upstream logs line up with its own.
enum RequestIdentifier {
    /// A client's id when it is short and plain (letters, digits, `-`, `_`, `.`), as the services accept it.
    static func validated(_ value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= 128 else { return nil }
        for b in value.utf8 {
            let ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: "_") || b == UInt8(ascii: ".")
            if !ok { return nil }
        }
        return value
    }

    /// 16 random hex digits.
    static func random() -> String {
        var rng = SystemRandomNumberGenerator()
        let value: UInt64 = rng.next()
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
