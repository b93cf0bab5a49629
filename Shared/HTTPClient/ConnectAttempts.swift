import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

/// A host's resolved addresses tried in order, one non-blocking connect at a time, and the last
/// failure to report when none connects. Shared by the HTTP and WebSocket client connections,
/// which register the socket on their loop and wait for EPOLLOUT to learn the outcome.
struct ConnectAttempts {
    private var addresses: [ResolvedAddress] = []
    private var index = 0
    /// Why the latest attempt failed ("10.0.0.1: Connection refused").
    private(set) var lastError = ""

    /// Starts over with a fresh resolution.
    mutating func start(_ list: [ResolvedAddress]) {
        addresses = list
        index = 0
    }

    /// A socket whose connect to the next address is under way (or done), or nil when every
    /// address has been tried. The caller owns the socket.
    mutating func nextSocket(port: Int) -> Int32? {
        while index < addresses.count {
            let address = addresses[index]
            index += 1
            let s = bh_socket_tcp(address.family)
            if s < 0 {
                lastError = "socket: \(String(cString: strerror(errno)))"
                continue
            }
            let rc = bh_connect(s, address.ip, Int32(port))
            if rc == 0 || rc == -EINPROGRESS { return s }
            Glibc.close(s)
            lastError = "\(address.ip): \(String(cString: strerror(-rc)))"
        }
        return nil
    }

    /// Records a failure of the current attempt (`errno`-style code from the socket, or a
    /// registration error); `fallback` names the host when no address was tried.
    mutating func failed(_ reason: String, fallback: String) {
        let ip = addresses.indices.contains(index - 1) ? addresses[index - 1].ip : fallback
        lastError = "\(ip): \(reason)"
    }

    /// Records a failure that is not tied to an address (registering the socket).
    mutating func failed(_ reason: String) {
        lastError = reason
    }
}
