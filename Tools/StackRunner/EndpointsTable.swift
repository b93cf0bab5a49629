/// The human-readable table `bulkhead run` prints once the stack is ready.
///
/// ```
/// SERVICE            URL                     PID
/// api-core           http://127.0.0.1:8080   4242
/// ...
/// ingress            http://127.0.0.1:8000   4241
/// ```
public struct EndpointsTable: Sendable {
    public struct Row: Sendable, Equatable {
        public var service: String
        public var url: String
        public var pid: Int32?
        public init(service: String, url: String, pid: Int32?) {
            self.service = service
            self.url = url
            self.pid = pid
        }
    }

    public var rows: [Row]
    public init(rows: [Row]) { self.rows = rows }

    /// Aligned columns, one line per row, header first, newline-terminated.
    public func render() -> String {
        let header = Row(service: "SERVICE", url: "URL", pid: nil)
        let serviceWidth = max(header.service.count, rows.map(\.service.count).max() ?? 0) + 2
        let urlWidth = max(header.url.count, rows.map(\.url.count).max() ?? 0) + 2
        func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
        var out = pad(header.service, serviceWidth) + pad(header.url, urlWidth) + "PID\n"
        for row in rows {
            out += pad(row.service, serviceWidth) + pad(row.url, urlWidth) + (row.pid.map { String($0) } ?? "-") + "\n"
        }
        return out
    }
}
