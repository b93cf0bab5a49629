import BulkheadObservability
import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Counts stop requests (SIGINT/SIGTERM, or `request()` from code) and lets tasks wait for
/// the first or the second: the first stops the stack gracefully, a second one hurries it.
public final class StopRequests: Sendable {
    private struct State {
        var count = 0
        var waiters: [(atLeast: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    public init() {}

    /// Requests received so far.
    public var count: Int { state.withLock { $0.count } }

    /// Records one request and wakes whoever waits for this many.
    public func request() {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.count += 1
            let count = s.count
            let due = s.waiters.filter { $0.atLeast <= count }.map(\.continuation)
            s.waiters.removeAll { $0.atLeast <= count }
            return due
        }
        for c in ready { c.resume() }
    }

    /// Returns once at least `n` requests have arrived.
    public func wait(atLeast n: Int = 1) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.count >= n { return true }
                s.waiters.append((n, c))
                return false
            }
            if now { c.resume() }
        }
    }

    /// Turns every SIGINT and SIGTERM into a request, for the life of the process (their default
    /// action is disabled). The sources stay installed so a second Ctrl-C is seen too.
    public func listenForSignals(logger: Logger?) {
        for signo in [SIGINT, SIGTERM] {
            signal(signo, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signo, queue: .global())
            source.setEventHandler { [self] in
                logger?.info("signal received", ["signal": .int(Int(signo)), "stop_requests": .int(self.count + 1)])
                self.request()
            }
            source.resume()
            let kept = RetainedSignalSource(source)
            signalSources.withLock { $0.append(kept) }
        }
    }

    private let signalSources = Mutex<[RetainedSignalSource]>([])
}

/// Keeps a resumed signal source alive.
private final class RetainedSignalSource: @unchecked Sendable {
    // Safe because: the source is only retained here, never touched after `resume()`.
    let source: any DispatchSourceSignal
    init(_ source: any DispatchSourceSignal) { self.source = source }
}
