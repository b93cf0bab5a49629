import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability
import Foundation
import Synchronization

/// The gateway's model names (`GET $GATEWAY_URL/v1/models` with the internal token), cached so
/// a submission is checked without a network round trip. A background loop refreshes the list
/// every `ttl`; a name the list lacks triggers one refresh (at most every `missRefreshInterval`,
/// shared by concurrent misses) before it is refused, so a model just added to the catalog is
/// accepted.
///
/// Availability first: with no list (the gateway never answered) or a list older than
/// `maxAge` (it stopped answering), every model is `unverified` and the job is accepted as if
/// there were no check; the worker still fails an unknown model with `model_not_found`.
final class ModelCatalog: Sendable {
    /// What the list says about a model name.
    enum Verdict: Sendable, Equatable {
        case known
        /// Not in the catalog; `available` are the catalog's names, sorted.
        case unknown(available: [String])
        /// In the catalog, but it serves the other route (`chat` or `embeddings`, as the gateway
        /// says); `suitable` are the names that serve the wanted one, sorted.
        case wrongKind(modelKind: String, suitable: [String])
        /// No usable list: accept unchecked.
        case unverified
    }

    let gatewayURL: String
    let internalToken: String
    let client: HTTPClient
    /// How long a fetched list is fresh; the background loop refreshes at this period.
    let ttl: Duration
    let metrics: APICoreMetrics
    let logger: Logger
    /// A miss refreshes the list at most this often (so a flood of bad names cannot flood the gateway).
    let missRefreshInterval: Duration
    /// Deadline of one fetch.
    static let fetchTimeout: Duration = .seconds(2)

    private struct State {
        /// Model name → the route it serves (`chat`, `embeddings`; nil from a gateway that does not say).
        var names: [String: String?]?
        var fetchedAt: ContinuousClock.Instant?
        var lastMissRefresh: ContinuousClock.Instant?
        var failing = false
    }

    private let state = Mutex(State())

    init(
        gatewayURL: String, internalToken: String, client: HTTPClient, ttl: Duration, metrics: APICoreMetrics, logger: Logger,
        missRefreshInterval: Duration = .seconds(5)
    ) {
        self.gatewayURL = gatewayURL
        self.internalToken = internalToken
        self.client = client
        self.ttl = ttl
        self.metrics = metrics
        self.logger = logger
        self.missRefreshInterval = missRefreshInterval
    }

    /// A list this old is no longer trusted (the background loop failed about three times).
    var maxAge: Duration { ttl * 3 }

    /// Checks `model` for a job that needs `kind` (`chat` or `embeddings`); awaits the network
    /// only for a name the list lacks, at most once per `missRefreshInterval` across all callers.
    func check(_ model: String, kind: String) async -> Verdict {
        var verdict = lookup(model, kind: kind)
        if case .unknown = verdict, claimMissRefresh() {
            await refresh()
            verdict = lookup(model, kind: kind)
        }
        switch verdict {
        case .known: metrics.modelChecks.labels("known").inc()
        case .unknown: metrics.modelChecks.labels("unknown").inc()
        case .wrongKind: metrics.modelChecks.labels("wrong_kind").inc()
        case .unverified: metrics.modelChecks.labels("unverified").inc()
        }
        return verdict
    }

    /// Refreshes the list now and every `ttl` until cancelled; after a failure sooner (1 s,
    /// doubling up to `ttl`), so a gateway that starts after api-core is asked again quickly.
    func run() async {
        var retry: Duration = .seconds(1)
        while !Task.isCancelled {
            if await refresh() {
                retry = .seconds(1)
                try? await Task.sleep(for: ttl)
            } else {
                try? await Task.sleep(for: min(retry, ttl))
                retry = min(retry * 2, ttl)
            }
        }
    }

    /// The verdict of the current list, without any I/O.
    func lookup(_ model: String, kind: String) -> Verdict {
        state.withLock { s in
            guard let names = s.names, let at = s.fetchedAt, ContinuousClock.now - at <= maxAge else { return .unverified }
            guard let served = names[model] else { return .unknown(available: names.keys.sorted()) }
            guard let served, served != kind else { return .known }
            return .wrongKind(modelKind: served, suitable: names.filter { $0.value == kind }.keys.sorted())
        }
    }

    private func claimMissRefresh() -> Bool {
        state.withLock { s in
            let now = ContinuousClock.now
            if let last = s.lastMissRefresh, now - last < missRefreshInterval { return false }
            s.lastMissRefresh = now
            return true
        }
    }

    /// Fetches the list; on failure keeps the previous one (until `maxAge`) and logs once per
    /// outage. Returns whether it succeeded.
    @discardableResult
    func refresh() async -> Bool {
        do {
            let names = try await fetch()
            metrics.modelListRefreshes.labels("ok").inc()
            let recovered = state.withLock { s in
                s.names = names
                s.fetchedAt = .now
                defer { s.failing = false }
                return s.failing
            }
            if recovered { logger.info("gateway model list readable again", ["models": .int(names.count)]) }
            return true
        } catch {
            metrics.modelListRefreshes.labels("error").inc()
            let first = state.withLock { s in
                defer { s.failing = true }
                return !s.failing
            }
            if first {
                logger.warning(
                    "gateway model list unavailable; jobs are accepted unchecked once the last list is older than \(maxAge.components.seconds) s",
                    ["error": .string(String(describing: error).prefix(300).description)])
            }
            return false
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    private struct ModelList: Decodable {
        struct Model: Decodable {
            var id: String
            var kind: String?
        }
        var data: [Model]
    }

    private func fetch() async throws -> [String: String?] {
        var request = HTTPClientRequest(method: .get, url: gatewayURL + "/v1/models")
        if !internalToken.isEmpty { request.headers.add(name: "Authorization", value: "Bearer \(internalToken)") }
        let response = try await client.execute(request, timeout: Self.fetchTimeout)
        let bytes = try await response.body.collect(upTo: 4 << 20)
        guard response.status.code == 200 else {
            throw Failure(description: "gateway answered \(response.status.code) to GET /v1/models: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        do {
            let models = try JSONDecoder().decode(ModelList.self, from: Data(bytes)).data
            return Dictionary(models.map { ($0.id, $0.kind) }, uniquingKeysWith: { first, _ in first })
        } catch {
            throw Failure(description: "unreadable model list from the gateway: \(error)")
        }
    }
}
