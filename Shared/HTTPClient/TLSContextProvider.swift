import BulkheadCrypto
import Synchronization

/// The TLS context for https connections: the configured one, or a default one (system
/// trust store, TLS ≥ 1.2) made on first use and kept.
final class TLSContextProvider: Sendable {
    private let configured: TLSClientContext?
    private let lazyDefault = Mutex<Result<TLSClientContext, HTTPClientError>?>(nil)

    init(_ configured: TLSClientContext?) {
        self.configured = configured
    }

    func context() -> Result<TLSClientContext, HTTPClientError> {
        if let configured { return .success(configured) }
        return lazyDefault.withLock { cached in
            if let cached { return cached }
            let made: Result<TLSClientContext, HTTPClientError>
            do {
                made = .success(try TLSClientContext())
            } catch {
                made = .failure(HTTPClientError(.tlsFailed, "could not create the default TLS context: \(error)"))
            }
            cached = made
            return made
        }
    }
}
