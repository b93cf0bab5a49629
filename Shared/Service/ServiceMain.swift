import BulkheadObservability
#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// The whole body of a service executable: configuration summary, start, wait for
/// SIGTERM/SIGINT, graceful shutdown, exit code.
public enum ServiceMain {
    public static func run<S: ServiceDefinition>(_ service: S.Type) async -> Never {
        signal(SIGPIPE, SIG_IGN)
        let environment = Environment()
        let host: ServiceHost
        do {
            host = try await ServiceHost.start(service, environment: environment)
        } catch {
            let logger = Logger(service: S.name)
            logger.error("failed to start", ["error": .string(String(describing: error))])
            exit(1)
        }
        for line in environment.summary.lines { host.logger.info("config", ["setting": .string(line)]) }
        let signal = await SignalWaiter.wait(for: [SIGTERM, SIGINT])
        host.logger.info("signal received", ["signal": .int(Int(signal))])
        await host.shutdown()
        exit(0)
    }
}

/// Turns the first of some signals into an async event (the default action is disabled for them).
public enum SignalWaiter {
    public static func wait(for signals: [Int32]) async -> Int32 {
        await withCheckedContinuation { (c: CheckedContinuation<Int32, Never>) in
            let fired = SignalOnce(c)
            for s in signals {
                signal(s, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
                source.setEventHandler { fired.fire(s) }
                source.resume()
                fired.keep(source)
            }
        }
    }
}

import Synchronization

private final class SignalOnce: Sendable {
    private let state: Mutex<(CheckedContinuation<Int32, Never>?, [any DispatchSourceSignal])>
    init(_ c: CheckedContinuation<Int32, Never>) { state = Mutex((c, [])) }
    func keep(_ source: any DispatchSourceSignal) { state.withLock { $0.1.append(source) } }
    func fire(_ s: Int32) {
        let c = state.withLock { st -> CheckedContinuation<Int32, Never>? in
            defer { st.0 = nil }
            return st.0
        }
        c?.resume(returning: s)
    }
}
