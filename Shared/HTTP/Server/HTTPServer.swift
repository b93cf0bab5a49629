import CBulkheadShims
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server: `loopCount` event loop threads, each accepting on its own
/// SO_REUSEPORT socket, handing complete requests to an `HTTPResponder`.
///
/// ```swift
/// let server = HTTPServer(configuration: config, responder: app)
/// try server.start()
/// print(server.port)
/// await server.shutdown(gracePeriod: .seconds(10))
/// ```
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    private let responder: any HTTPResponder
    private let state = HTTPServerState()
    private let loops: [EventLoop]
    private let contexts: [ServerLoopContext]
    private let boundPort = Atomic<Int>(0)

    public init(configuration: HTTPServerConfiguration, responder: any HTTPResponder) throws {
        self.configuration = configuration
        self.responder = responder
        var loops: [EventLoop] = []
        for i in 0..<max(1, configuration.loopCount) { loops.append(try EventLoop(index: i)) }
        self.loops = loops
        let shared = state
        contexts = loops.map { ServerLoopContext(loop: $0, configuration: configuration, responder: responder, shared: shared) }
    }

    /// The bound port (useful when configured with port 0).
    public var port: Int { boundPort.load(ordering: .relaxed) }
    /// Open connections right now.
    public var openConnections: Int { state.openConnections }
    /// Whether `shutdown` has begun.
    public var isShuttingDown: Bool { state.isDraining }
    /// Requests whose handler has not finished.
    public var requestsInFlight: Int { state.requestsInFlight }
    /// Requests answered by the connection layer itself (400, 408, 413, 431, 501...) by status.
    public var connectionErrorCounts: [Int: Int] { state.connectionErrors.withLock { $0 } }

    /// Binds every loop's socket and starts the loop threads.
    public func start() throws {
        var port = configuration.port
        var fds: [Int32] = []
        do {
            for _ in loops {
                let fd = try Self.listen(host: configuration.host, port: port, backlog: configuration.backlog)
                fds.append(fd)
                if port == 0 { port = Int(bh_local_port(fd)) }
            }
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        boundPort.store(port, ordering: .relaxed)
        for (i, context) in contexts.enumerated() {
            try context.startListening(fd: fds[i])
            context.loop.start(name: "http-\(i)")
        }
    }

    private static func listen(host: String, port: Int, backlog: Int) throws -> Int32 {
        let family: Int32 = host.contains(":") ? 6 : 4
        let fd = bh_socket_tcp(family)
        guard fd >= 0 else { throw IOError("socket", errno: errno) }
        _ = bh_set_reuseaddr(fd)
        _ = bh_set_reuseport(fd)
        let rc = bh_bind_listen(fd, host, Int32(port), Int32(backlog))
        if rc != 0 {
            close(fd)
            throw IOError("bind \(host):\(port)", errno: -rc)
        }
        return fd
    }

    /// Graceful shutdown: stop accepting, let in-flight requests finish (up to `gracePeriod`),
    /// close idle connections at once, end long-lived streams, then stop the loops.
    public func shutdown(gracePeriod: Duration = .seconds(10)) async {
        state.startDraining()
        for context in contexts { context.loop.execute { context.beginDrain() } }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: gracePeriod)
        while state.openConnections > 0 && clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        for context in contexts { context.loop.execute { context.closeAll() } }
        let hardDeadline = clock.now.advanced(by: .seconds(1))
        while (state.openConnections > 0 || state.requestsInFlight > 0) && clock.now < hardDeadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        for loop in loops { loop.stop() }
        for loop in loops { await loop.waitUntilStopped() }
    }
}

