/// Which connections can serve a request: same scheme, host and port.
struct PoolKey: Hashable, Sendable, CustomStringConvertible {
    var scheme: HTTPClientURL.Scheme
    var host: String
    var port: Int

    init(_ url: HTTPClientURL) {
        scheme = url.scheme
        host = url.host
        port = url.port
    }

    var description: String { "\(scheme.rawValue)://\(host.contains(":") ? "[\(host)]" : host):\(port)" }
}
