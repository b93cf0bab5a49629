import BulkheadHTTP

/// Keep-alive connections per `PoolKey`, with a per-host limit and a FIFO of requests
/// waiting for a connection.
///
/// Concurrency: confined to the client's event loop (every method is called there), which
/// is why it can be `@unchecked Sendable`.
final class ConnectionPool: @unchecked Sendable {
    private struct HostPool {
        /// Idle keep-alive connections, most recently used last.
        var idle: [ClientConnection] = []
        /// Connections counted against the limit: connecting, busy and idle.
        var open = 0
        /// Requests waiting for a connection, in arrival order (retries go first).
        var waiters: [ClientExchange] = []
    }

    let loop: EventLoop
    let settings: ConnectionSettings
    let tls: TLSContextProvider
    /// Request, connect and idle deadlines.
    let deadlines: DeadlineScheduler
    private var hosts: [PoolKey: HostPool] = [:]
    private var connections: [ObjectIdentifier: ClientConnection] = [:]
    private(set) var isShutdown = false

    init(loop: EventLoop, settings: ConnectionSettings, tls: TLSContextProvider) {
        self.loop = loop
        self.settings = settings
        self.tls = tls
        deadlines = DeadlineScheduler(loop: loop)
    }

    // MARK: Leasing

    /// Finds a connection for `exchange`: an idle one (unless `fresh`), a new one under the
    /// limit, or a place in the queue. `priority` puts it first in the queue (retries).
    func acquire(_ exchange: ClientExchange, fresh: Bool, priority: Bool = false) {
        assert(loop.inEventLoop)
        if isShutdown {
            exchange.fail(HTTPClientError(.shutdown, "the HTTP client is shut down"))
            return
        }
        let key = exchange.key
        var host = hosts[key] ?? HostPool()
        if !fresh, let connection = host.idle.popLast() {
            hosts[key] = host
            connection.run(exchange)
            return
        }
        if host.open < settings.maxConnectionsPerHost {
            host.open += 1
            hosts[key] = host
            openConnection(for: exchange)
            return
        }
        if fresh, !host.idle.isEmpty {
            // At the limit with idle connections that must not be used: trade the oldest for a new one.
            let victim = host.idle.removeFirst()
            hosts[key] = host
            victim.closeDetached()
            connections[ObjectIdentifier(victim)] = nil
            openConnection(for: exchange)
            return
        }
        exchange.queued(fresh: fresh)
        if priority { host.waiters.insert(exchange, at: 0) } else { host.waiters.append(exchange) }
        hosts[key] = host
    }

    private func openConnection(for exchange: ClientExchange) {
        let connection = ClientConnection(key: exchange.key, pool: self)
        connections[ObjectIdentifier(connection)] = connection
        connection.connect(for: exchange)
    }

    /// A waiting request gave up (timeout, cancellation).
    func removeWaiter(_ exchange: ClientExchange) {
        guard var host = hosts[exchange.key] else { return }
        host.waiters.removeAll { $0 === exchange }
        store(host, for: exchange.key)
    }

    // MARK: Returning

    /// A connection finished its exchange and may be reused: give it to the next waiter or keep it idle.
    func release(_ connection: ClientConnection) {
        assert(loop.inEventLoop)
        let key = connection.key
        guard !isShutdown, var host = hosts[key] else {
            connection.close()
            return
        }
        if !host.waiters.isEmpty {
            let next = host.waiters.removeFirst()
            hosts[key] = host
            if next.wantsFreshConnection && connection.exchangesCompleted > 0 {
                connection.closeDetached()
                connections[ObjectIdentifier(connection)] = nil
                openConnection(for: next)
            } else {
                connection.run(next)
            }
            return
        }
        host.idle.append(connection)
        hosts[key] = host
        connection.becomeIdle()
    }

    /// A connection closed (in any state). Frees its slot; `retry` (an exchange to try
    /// again on a fresh connection) goes first, else the next waiter gets a new connection.
    func connectionClosed(_ connection: ClientConnection, retry: ClientExchange? = nil) {
        assert(loop.inEventLoop)
        let key = connection.key
        guard connections.removeValue(forKey: ObjectIdentifier(connection)) != nil, var host = hosts[key] else {
            retry?.fail(HTTPClientError(.shutdown, "the HTTP client is shut down"))
            return
        }
        host.idle.removeAll { $0 === connection }
        host.open -= 1
        hosts[key] = host
        if let retry {
            acquire(retry, fresh: true, priority: true)
            return
        }
        if isShutdown { return }
        if !host.waiters.isEmpty && host.open < settings.maxConnectionsPerHost {
            let next = host.waiters.removeFirst()
            host.open += 1
            hosts[key] = host
            openConnection(for: next)
            return
        }
        store(host, for: key)
    }

    private func store(_ host: HostPool, for key: PoolKey) {
        if host.open == 0 && host.waiters.isEmpty && host.idle.isEmpty {
            hosts[key] = nil
        } else {
            hosts[key] = host
        }
    }

    // MARK: Shutdown

    /// Fails waiting requests and closes every connection (busy ones fail their request).
    func shutdown() {
        assert(loop.inEventLoop)
        if isShutdown { return }
        isShutdown = true
        let error = HTTPClientError(.shutdown, "the HTTP client is shut down")
        let waiting = hosts.values.flatMap(\.waiters)
        for (key, var host) in hosts {
            host.waiters = []
            hosts[key] = host
        }
        for exchange in waiting { exchange.fail(error) }
        for connection in Array(connections.values) { connection.shutdown(error) }
        hosts = [:]
        connections = [:]
    }

    // MARK: Introspection (tests, metrics)

    struct Stats: Sendable, Equatable {
        var open = 0
        var idle = 0
        var waiting = 0
    }

    func stats(for key: PoolKey) -> Stats {
        guard let host = hosts[key] else { return Stats() }
        return Stats(open: host.open, idle: host.idle.count, waiting: host.waiters.count)
    }
}
