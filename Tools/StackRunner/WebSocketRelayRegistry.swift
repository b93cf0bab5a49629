import BulkheadHTTPClient
import Synchronization

/// The WebSocket connections one ingress relays: counts them against `maxWebSockets`, and
/// at shutdown aborts the upstream sides still open (their sockets live on the HTTP
/// client's event loop, which stops right after).
final class WebSocketRelayRegistry: Sendable {
    private struct State {
        /// Slots taken: upgrades being connected plus relays running.
        var taken = 0
        var upstreams: [ObjectIdentifier: WebSocketClientConnection] = [:]
        var shutDown = false
    }

    /// `IngressConfiguration.maxWebSockets`.
    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Relays running or being set up.
    var count: Int { state.withLock { $0.taken } }

    /// Takes a slot for an upgrade about to connect upstream; false at the limit or after shutdown.
    func reserve() -> Bool {
        state.withLock { s in
            guard !s.shutDown, s.taken < limit else { return false }
            s.taken += 1
            return true
        }
    }

    /// Gives back a slot whose upstream connection failed.
    func unreserve() {
        state.withLock { $0.taken -= 1 }
    }

    /// Records the connected upstream of a reserved slot; the lease gives the slot back.
    func register(_ upstream: WebSocketClientConnection) -> WebSocketRelayLease {
        let accepted = state.withLock { s -> Bool in
            guard !s.shutDown else { return false }
            s.upstreams[ObjectIdentifier(upstream)] = upstream
            return true
        }
        if !accepted { upstream.abort() }
        return WebSocketRelayLease(registry: self, upstream: upstream)
    }

    fileprivate func release(_ upstream: WebSocketClientConnection) {
        state.withLock { s in
            s.upstreams[ObjectIdentifier(upstream)] = nil
            s.taken -= 1
        }
    }

    /// Shutdown: refuses new relays and aborts the upstream sockets still open.
    func abortAll() {
        let open = state.withLock { s -> [WebSocketClientConnection] in
            s.shutDown = true
            return Array(s.upstreams.values)
        }
        for upstream in open { upstream.abort() }
    }
}

/// One relay's slot. Released when the relay ends, or when the lease is dropped because
/// the server never ran the relay (the client vanished before its 101 was written).
final class WebSocketRelayLease: Sendable {
    private let registry: WebSocketRelayRegistry
    private let upstream: WebSocketClientConnection
    private let released = Atomic<Bool>(false)

    fileprivate init(registry: WebSocketRelayRegistry, upstream: WebSocketClientConnection) {
        self.registry = registry
        self.upstream = upstream
    }

    /// Closes the upstream socket if it is still open (no-op after a closing handshake) and frees the slot. Idempotent.
    func release() {
        guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
        upstream.abort()
        registry.release(upstream)
    }

    deinit { release() }
}
