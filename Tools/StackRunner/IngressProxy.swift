import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability

/// The ingress's `HTTPResponder`: routes by path prefix and forwards to the upstream with
/// `HTTPClient`, streaming the response back as it arrives (SSE token streams included).
///
/// - Unroutable paths, `/internal/...` and dot-segment paths: 404 `not_found`.
/// - WebSocket upgrades (api-core's `/v1/stream`): relayed message by message to the
///   upstream's WebSocket (see `relayWebSocket` and `WebSocketRelay`); an upstream refusing
///   the upgrade has its own status and JSON body passed on; at most `maxWebSockets` at once (503 beyond).
/// - Upstream refusing connections or failing before its head: 502 `upstream_unavailable`
///   (`bad_gateway` for a malformed answer); no head within `upstreamTimeout`: 504 `upstream_timeout`.
/// - An upstream failing mid-body: the client connection is cut (the only honest signal left).
public final class IngressProxy: HTTPResponder {
    public let configuration: IngressConfiguration
    let client: HTTPClient
    let logger: Logger
    /// The WebSocket relays in progress (their upstream sockets run on `client`'s event loop).
    let relays: WebSocketRelayRegistry

    public init(configuration: IngressConfiguration, client: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.client = client
        self.logger = logger
        relays = WebSocketRelayRegistry(limit: configuration.maxWebSockets)
    }

    /// WebSocket connections being relayed (or connecting upstream) right now.
    public var webSocketCount: Int { relays.count }

    public func bodyLimit(for head: HTTPRequestHead) -> Int { configuration.maxBodyBytes }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        let requestID = request.headers.first("x-request-id").flatMap(RequestIdentifier.validated) ?? RequestIdentifier.random()
        let log = logger.with(requestID: requestID)
        let upstream: IngressUpstream
        switch configuration.routes.route(path: request.path) {
        case .forward(let u):
            upstream = u
        case .internalRefused, .unsafePath, .notFound:
            return Self.error(.notFound, "not_found", "No route for \(request.method) \(request.path).", requestID: requestID)
        }
        guard var base = configuration.upstreams[upstream] else {
            return Self.error(.badGateway, "upstream_unavailable", "No address is configured for \(upstream.rawValue).", requestID: requestID)
        }
        while base.hasSuffix("/") { base.removeLast() }
        if request.headers.tokens("upgrade").contains("websocket") {
            return await relayWebSocket(request, upstream: upstream, base: base, requestID: requestID, logger: log)
        }

        var outbound = HTTPClientRequest(method: request.method, url: base + request.head.target)
        outbound.headers = ProxyHeaders.upstreamRequestHeaders(for: request, requestID: requestID)
        outbound.body = request.body
        let started = ContinuousClock.now
        let upstreamResponse: HTTPClientResponse
        do {
            upstreamResponse = try await executeWithHeadTimeout(outbound)
        } catch {
            let failure = UpstreamFailure(error, upstream: upstream, base: base, timeout: configuration.upstreamTimeout)
            log.warning(
                "upstream failed",
                [
                    "method": .string(request.method.rawValue), "path": .string(String(request.path)),
                    "upstream": .string(upstream.rawValue), "status": .int(failure.status.code), "error": .string(failure.detail),
                ])
            return Self.error(failure.status, failure.code, failure.message, requestID: requestID)
        }
        if configuration.accessLog {
            log.info(
                "proxied",
                [
                    "method": .string(request.method.rawValue), "path": .string(String(request.path)),
                    "upstream": .string(upstream.rawValue), "status": .int(upstreamResponse.status.code),
                    "head_ms": .double(Self.milliseconds(ContinuousClock.now - started)), "remote": .string(request.remoteAddress),
                ])
        }
        return Self.relay(upstreamResponse, for: request, upstream: upstream, logger: log)
    }

    /// Sends the request and waits at most `upstreamTimeout` for the response head. The body
    /// has no deadline: it streams for as long as the upstream and the client keep going.
    private func executeWithHeadTimeout(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let client = self.client
        let timeout = configuration.upstreamTimeout
        return try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
            group.addTask { try await client.execute(request, timeout: nil) }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw HTTPClientError(.timeout, "no response head within \(timeout)")
            }
            return response
        }
    }

    /// The client-facing response: the upstream's status and end-to-end headers, and its
    /// body written chunk by chunk as it arrives.
    static func relay(_ response: HTTPClientResponse, for request: HTTPRequest, upstream: IngressUpstream, logger: Logger) -> HTTPResponse {
        let headers = ProxyHeaders.downstreamResponseHeaders(response.headers)
        let code = response.status.code
        if request.method == .head || code < 200 || code == 204 || code == 304 {
            return HTTPResponse(status: response.status, headers: headers, body: .empty)
        }
        let body = response.body
        return .stream(status: response.status, headers: headers) { writer in
            do {
                for try await chunk in body { try await writer.write(chunk) }
            } catch let error as HTTPBodyWriterError {
                throw error  // the client left, or the ingress is shutting down
            } catch {
                logger.warning(
                    "upstream body failed", ["upstream": .string(upstream.rawValue), "error": .string(String(describing: error))])
                throw error
            }
        }
    }

    static func error(_ status: HTTPStatus, _ code: String, _ message: String, requestID: String) -> HTTPResponse {
        var response = HTTPError(status, code: code, message: message).response
        response.headers.add(name: "X-Request-Id", value: requestID)
        return response
    }

    static func milliseconds(_ d: Duration) -> Double {
        let c = d.components
        return ((Double(c.seconds) * 1000 + Double(c.attoseconds) / 1e15) * 1000).rounded() / 1000
    }
}

extension String {
    /// `self` with a leading `prefix` replaced, or unchanged.
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
