/// Minimal JSON text helpers for the runtime's own error bodies, so the hot path needs no encoder.
public enum JSONText {
    /// A JSON string literal (with quotes) for `s`.
    public static func quoted(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// `{"error":{"code":...,"message":...}}` as bytes.
    public static func errorBody(code: String, message: String) -> [UInt8] {
        Array("{\"error\":{\"code\":\(quoted(code)),\"message\":\(quoted(message))}}".utf8)
    }
}
