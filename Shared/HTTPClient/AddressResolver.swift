import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// An IP address to dial, as text for `bh_connect`.
struct ResolvedAddress: Sendable, Equatable {
    /// 4 or 6 (what `bh_socket_tcp` takes).
    var family: Int32
    var ip: String
}

/// Host name resolution. IP literals and `localhost` are answered at once; other names go
/// through `getaddrinfo`, a blocking call, on a Dispatch worker thread so the event loop
/// never blocks.
enum AddressResolver {
    /// Answers without a system call when possible: IP literals, and `localhost`
    /// (127.0.0.1 first, then ::1). nil: needs `getaddrinfo`.
    static func immediate(_ host: String) -> [ResolvedAddress]? {
        if host == "localhost" || host == "localhost." {
            return [ResolvedAddress(family: 4, ip: "127.0.0.1"), ResolvedAddress(family: 6, ip: "::1")]
        }
        if isIPv4Literal(host) { return [ResolvedAddress(family: 4, ip: host)] }
        if host.contains(":") { return [ResolvedAddress(family: 6, ip: host)] }
        return nil
    }

    /// Resolves off the calling thread and calls `completion` (on a Dispatch thread).
    static func resolve(_ host: String, completion: @escaping @Sendable (Result<[ResolvedAddress], HTTPClientError>) -> Void) {
        if let addresses = immediate(host) {
            completion(.success(addresses))
            return
        }
        DispatchQueue.global().async {
            completion(getAddresses(host))
        }
    }

    /// A NUL-terminated C string in a buffer, as text.
    private static func string(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func isIPv4Literal(_ host: String) -> Bool {
        var addr = in_addr()
        return inet_pton(AF_INET, host, &addr) == 1
    }

    /// The blocking lookup: IPv4 addresses first (most of our peers listen on them), then IPv6,
    /// each family in the resolver's order, duplicates removed.
    static func getAddresses(_ host: String) -> Result<[ResolvedAddress], HTTPClientError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, nil, &hints, &list)
        guard rc == 0, let first = list else {
            let reason = rc == 0 ? "no address" : String(cString: gai_strerror(rc))
            return .failure(HTTPClientError(.connectFailed, "could not resolve '\(host)': \(reason)"))
        }
        defer { freeaddrinfo(first) }
        var v4: [ResolvedAddress] = []
        var v6: [ResolvedAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        while let info = node {
            defer { node = info.pointee.ai_next }
            guard let sa = info.pointee.ai_addr else { continue }
            let family = Int32(sa.pointee.sa_family)
            if family == AF_INET {
                let ok = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin -> Bool in
                    var a = sin.pointee.sin_addr
                    return inet_ntop(AF_INET, &a, &text, socklen_t(text.count)) != nil
                }
                if ok {
                    let address = ResolvedAddress(family: 4, ip: Self.string(text))
                    if !v4.contains(address) { v4.append(address) }
                }
            } else if family == AF_INET6 {
                let ok = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 -> Bool in
                    var a = sin6.pointee.sin6_addr
                    return inet_ntop(AF_INET6, &a, &text, socklen_t(text.count)) != nil
                }
                if ok {
                    let address = ResolvedAddress(family: 6, ip: Self.string(text))
                    if !v6.contains(address) { v6.append(address) }
                }
            }
        }
        let all = v4 + v6
        if all.isEmpty { return .failure(HTTPClientError(.connectFailed, "could not resolve '\(host)': no usable address")) }
        return .success(all)
    }
}
