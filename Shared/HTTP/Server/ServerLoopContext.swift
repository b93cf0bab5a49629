import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

/// Everything one event loop needs to serve: its listening socket (SO_REUSEPORT, so the
/// kernel spreads connections over loops with no hand-off), its connections, and a sweep
/// timer that enforces timeouts without a timer per request.
final class ServerLoopContext: EventLoopHandler, @unchecked Sendable {
    // Safe because: loop-confined, like HTTPConnection.
    let loop: EventLoop
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let shared: HTTPServerState
    var encoder: ResponseEncoder
    private var listenFD: Int32 = -1
    private var listenRegistration: UInt32 = 0
    private var connections: [Int32: HTTPConnection] = [:]
    let headerTimeoutNanos: UInt64
    let bodyTimeoutNanos: UInt64
    let idleTimeoutNanos: UInt64
    let writeTimeoutNanos: UInt64
    private let sweepNanos: UInt64

    init(loop: EventLoop, configuration: HTTPServerConfiguration, responder: any HTTPResponder, shared: HTTPServerState) {
        self.loop = loop
        self.configuration = configuration
        self.responder = responder
        self.shared = shared
        encoder = ResponseEncoder(serverName: configuration.serverName)
        headerTimeoutNanos = Self.nanos(configuration.headerTimeout)
        bodyTimeoutNanos = Self.nanos(configuration.bodyTimeout)
        idleTimeoutNanos = Self.nanos(configuration.idleTimeout)
        writeTimeoutNanos = Self.nanos(configuration.writeTimeout)
        let shortest = min(headerTimeoutNanos, bodyTimeoutNanos, idleTimeoutNanos, writeTimeoutNanos)
        sweepNanos = min(max(shortest / 4, 20_000_000), 1_000_000_000)
    }

    static func nanos(_ d: Duration) -> UInt64 {
        let c = d.components
        return UInt64(max(c.seconds, 0)) * 1_000_000_000 + UInt64(max(c.attoseconds, 0) / 1_000_000_000)
    }

    var isDraining: Bool { shared.isDraining }

    /// Takes ownership of a bound, listening socket and starts accepting on this loop.
    func startListening(fd: Int32) throws {
        listenFD = fd
        listenRegistration = try loop.register(fd: fd, events: BH_EPOLLIN, handler: self)
        scheduleSweep()
    }

    func handleEvents(_ events: UInt32) {
        // Accept a bounded number per wakeup so one busy listener cannot starve the loop.
        for _ in 0..<64 {
            let fd = bh_accept(listenFD)
            if fd < 0 {
                let e = errno
                if e == EINTR || e == ECONNABORTED { continue }
                if e == EMFILE || e == ENFILE {
                    // Out of descriptors: stop accepting briefly instead of spinning on the listener.
                    loop.modify(fd: listenFD, registrationID: listenRegistration, events: 0)
                    loop.schedule(at: EventLoop.now + 100_000_000) { [self] in
                        if self.listenFD >= 0 { self.loop.modify(fd: self.listenFD, registrationID: self.listenRegistration, events: BH_EPOLLIN) }
                    }
                }
                return
            }
            accepted(fd)
        }
    }

    private func accepted(_ fd: Int32) {
        if shared.connectionOpened() > configuration.maxConnections {
            // Degrade gracefully: a clear, cheap answer instead of a hang or a reset.
            Self.refuse(fd)
            shared.connectionClosed()
            return
        }
        _ = bh_set_nodelay(fd)
        var buf = [CChar](repeating: 0, count: 64)
        let n = bh_peer_address(fd, &buf, Int32(buf.count))
        let address = n > 0 ? String(decoding: buf[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        let connection = HTTPConnection(fd: fd, context: self, remoteAddress: address)
        do {
            connection.registrationID = try loop.register(fd: fd, events: BH_EPOLLIN, handler: connection)
        } catch {
            Glibc.close(fd)
            shared.connectionClosed()
            return
        }
        connections[fd] = connection
    }

    private static let busyResponse: [UInt8] = {
        let body = JSONText.errorBody(code: "server_busy", message: "Too many open connections; retry shortly.")
        return Array(
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n\r\n"
                .utf8) + body
    }()

    private static func refuse(_ fd: Int32) {
        busyResponse.withUnsafeBytes { raw in
            if let base = raw.baseAddress { _ = bh_send(fd, base, raw.count) }
        }
        Glibc.close(fd)
    }

    func connectionClosed(_ connection: HTTPConnection) {
        if connections.removeValue(forKey: connection.fd) != nil { shared.connectionClosed() }
    }

    func requestStarted() { shared.requestStarted() }
    func requestFinished() { shared.requestFinished() }
    func countConnectionError(status: Int) { shared.countConnectionError(status: status) }

    private func scheduleSweep() {
        loop.schedule(at: EventLoop.now + sweepNanos) { [self] in
            let now = EventLoop.now
            for connection in Array(self.connections.values) { connection.checkTimeouts(now: now) }
            if self.listenFD >= 0 || !self.connections.isEmpty { self.scheduleSweep() }
        }
    }

    /// Stops accepting and asks every connection to finish.
    func beginDrain() {
        if listenFD >= 0 {
            loop.deregister(fd: listenFD)
            Glibc.close(listenFD)
            listenFD = -1
        }
        for connection in Array(connections.values) { connection.beginDrain() }
    }

    /// Past the grace period: close whatever is left.
    func closeAll() {
        for connection in Array(connections.values) { connection.close() }
    }
}
