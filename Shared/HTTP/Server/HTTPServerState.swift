import Synchronization

/// Counters shared by every loop of one server.
final class HTTPServerState: Sendable {
    private let connections = Atomic<Int>(0)
    private let inFlight = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    let connectionErrors = Mutex<[Int: Int]>([:])

    /// Returns the count including the new connection.
    func connectionOpened() -> Int { connections.add(1, ordering: .relaxed).newValue }
    func connectionClosed() { connections.subtract(1, ordering: .relaxed) }
    var openConnections: Int { connections.load(ordering: .relaxed) }

    func requestStarted() { inFlight.add(1, ordering: .relaxed) }
    func requestFinished() { inFlight.subtract(1, ordering: .relaxed) }
    var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }

    var isDraining: Bool { draining.load(ordering: .relaxed) }
    func startDraining() { draining.store(true, ordering: .relaxed) }

    func countConnectionError(status: Int) { connectionErrors.withLock { $0[status, default: 0] += 1 } }
}
