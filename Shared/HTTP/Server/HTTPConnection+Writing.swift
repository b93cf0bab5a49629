import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

extension HTTPConnection {
    /// Bytes queued and not yet written.
    var pendingOutbound: Int { outbound.count - outboundOffset }

    /// Queues bytes and writes as much as the socket takes now; for an event stream being
    /// answered, at the end of the loop's current round instead.
    func enqueue(_ bytes: [UInt8]) {
        if isClosed { return }
        let wasEmpty = outboundOffset >= outbound.count
        if outbound.isEmpty {
            outbound = bytes
            outboundOffset = 0
        } else {
            outbound.append(contentsOf: bytes)
        }
        if case .responding = state, isLongLived, loop.inEventLoop {
            // An SSE response is written in pieces (head, events, last chunk) that often come
            // from one run of its task: one send for all of them instead of one each. The
            // flush runs right after the jobs of this round. One is scheduled when the queue
            // turns non-empty; while bytes wait, a flush is already due (or EPOLLOUT is awaited).
            if wasEmpty { loop.execute { [self] in flush() } }
            return
        }
        flush()
    }

    /// Writes queued bytes until done or the socket would block (then waits for EPOLLOUT).
    func flush() {
        while outboundOffset < outbound.count {
            let n = outbound.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return bh_send(fd, base + outboundOffset, raw.count - outboundOffset)
            }
            if n > 0 {
                outboundOffset += n
                lastActivity = EventLoop.now
                // The write timeout measures time without progress, not the length of a big download.
                writeStalledSince = 0
                continue
            }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN || e == EWOULDBLOCK {
                if writeStalledSince == 0 { writeStalledSince = EventLoop.now }
                if !writableInterest {
                    writableInterest = true
                    updateInterest()
                }
                // Partially written: compact so the buffer does not grow without bound.
                if outboundOffset > 64 * 1024 && outboundOffset * 2 > outbound.count {
                    outbound.removeFirst(outboundOffset)
                    outboundOffset = 0
                }
                wakeWritersIfDrained()
                return
            }
            close()
            return
        }
        // Everything written.
        writeStalledSince = 0
        if outbound.capacity > 1 << 20 { outbound = [] } else { outbound.removeAll(keepingCapacity: true) }
        outboundOffset = 0
        if writableInterest {
            writableInterest = false
            updateInterest()
        }
        wakeWritersIfDrained()
        if closeAfterFlush { close() }
    }

    private func wakeWritersIfDrained() {
        guard !writeWaiters.isEmpty, pendingOutbound <= context.configuration.writeHighWatermark / 2 else { return }
        let waiters = writeWaiters
        writeWaiters = []
        for w in waiters { w.resume() }
    }

    func pauseReading() {
        if readingPaused || isClosed { return }
        readingPaused = true
        updateInterest()
    }

    func resumeReading() {
        if !readingPaused || isClosed { return }
        readingPaused = false
        updateInterest()
    }

    func updateInterest() {
        if isClosed { return }
        var events: UInt32 = 0
        if !readingPaused { events |= BH_EPOLLIN }
        if writableInterest { events |= BH_EPOLLOUT }
        loop.modify(fd: fd, registrationID: registrationID, events: events)
    }

    /// Queues body bytes for a streaming writer, then waits while the client is slow.
    func writeBody(_ bytes: [UInt8], chunked: Bool) async throws {
        // Connection state is the loop's alone: run on the loop whatever executor the caller
        // prefers, so every resumption inside (after a wait for the slow reader too) lands there.
        // When the caller already runs on the loop's thread, the bytes are queued at once
        // without setting up the preference (nothing suspends before that); only a wait for a
        // slow reader goes through it.
        if loop.inEventLoop {
            try queueBody(bytes, chunked: chunked)
            if bytes.isEmpty || pendingOutbound <= context.configuration.writeHighWatermark { return }
            try await withTaskExecutorPreference(loop) { try await self.waitUntilDrainedOnLoop() }
            return
        }
        try await withTaskExecutorPreference(loop) {
            if !self.loop.inEventLoop { await self.hopToLoop() }
            try self.queueBody(bytes, chunked: chunked)
            if bytes.isEmpty { return }
            try await self.waitUntilDrainedOnLoop()
        }
    }

    /// Queues `bytes` (framed when chunked); throws when the stream cannot take them. Loop only.
    private func queueBody(_ bytes: [UInt8], chunked: Bool) throws {
        if shuttingDown { throw HTTPBodyWriterError.shuttingDown }
        if isClosed { throw HTTPBodyWriterError.connectionClosed }
        if bytes.isEmpty { return }
        if chunked {
            var framed: [UInt8] = []
            framed.reserveCapacity(bytes.count + 12)
            framed.append(contentsOf: String(bytes.count, radix: 16).utf8)
            framed.append(13)
            framed.append(10)
            framed.append(contentsOf: bytes)
            framed.append(13)
            framed.append(10)
            enqueue(framed)
        } else {
            enqueue(bytes)
        }
        if isClosed { throw HTTPBodyWriterError.connectionClosed }
    }

    /// Waits while the backlog is over the high watermark (the slow reader). Re-checks on the
    /// loop: the backlog may have drained while the task moved there.
    private func waitUntilDrainedOnLoop() async throws {
        if !loop.inEventLoop { await hopToLoop() }
        if isClosed { throw HTTPBodyWriterError.connectionClosed }
        if pendingOutbound > context.configuration.writeHighWatermark {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                writeWaiters.append(c)
            }
        }
    }

    /// Returns once the connection has closed (the client went away, or the server closed it),
    /// or when the calling task is cancelled.
    func waitForClose() async {
        // Connection state is the loop's alone: run on the loop whatever executor the caller
        // prefers, so every resumption inside (after a wait for the slow reader too) lands there.
        await withTaskExecutorPreference(loop) { await self.waitForCloseOnLoop() }
    }

    private func waitForCloseOnLoop() async {
        if !loop.inEventLoop { await hopToLoop() }
        if isClosed { return }
        let id = nextCloseWaiterID
        nextCloseWaiterID += 1
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                loop.execute { [self] in
                    if self.isClosed || self.cancelledCloseWaiters.remove(id) != nil {
                        c.resume()
                    } else {
                        self.closeWaiters[id] = c
                    }
                }
            }
        } onCancel: {
            loop.execute { [self] in
                if let c = self.closeWaiters.removeValue(forKey: id) {
                    c.resume()
                } else if !self.isClosed {
                    self.cancelledCloseWaiters.insert(id)
                }
            }
        }
    }
}

/// Why a streaming write failed.
public enum HTTPBodyWriterError: Error, Sendable, Equatable {
    /// The client disconnected (or the connection was cut for a timeout).
    case connectionClosed
    /// The server is shutting down; end the stream.
    case shuttingDown
}

/// Writes a streamed response body. Each `write` returns once the bytes are queued and the
/// connection's backlog is under its high watermark, so a slow client slows the producer.
public final class HTTPBodyWriter: Sendable {
    private let connection: HTTPConnection
    private let chunked: Bool
    private let discard: Bool

    init(connection: HTTPConnection, chunked: Bool, discard: Bool) {
        self.connection = connection
        self.chunked = chunked
        self.discard = discard
    }

    /// Writes bytes; throws `HTTPBodyWriterError` when the client is gone or the server drains.
    public func write(_ bytes: [UInt8]) async throws {
        if discard { return }
        try await connection.writeBody(bytes, chunked: chunked)
    }

    public func write(_ text: String) async throws { try await write(Array(text.utf8)) }

    /// Returns when the client disconnects or the connection closes.
    public func waitForClose() async { await connection.waitForClose() }
}
