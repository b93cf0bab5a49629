import BulkheadHTTP
import BulkheadHTTPClient
import BulkheadObservability

extension IngressProxy {
    /// Answers a WebSocket upgrade by relaying it to `upstream`.
    ///
    /// The upstream handshake happens first, before the client gets its 101 (the server
    /// writes the 101 as soon as the responder returns a `.webSocket` body): an upstream that
    /// refuses the upgrade (401 for a bad token, 404...) has its status, headers and JSON body
    /// passed to the client unchanged. Failures to reach the upstream answer 502/504 like
    /// plain requests; beyond `maxWebSockets` relays, 503 `too_many_websockets`.
    func relayWebSocket(_ request: HTTPRequest, upstream: IngressUpstream, base: String, requestID: String, logger: Logger) async -> HTTPResponse {
        // A bad client handshake is answered here, so it never costs an upstream connection.
        if case .failure(let error) = WebSocketHandshake.validate(request.head) {
            var response = HTTPError(error.status, code: error.code, message: error.message, headers: error.headers).response
            response.headers.add(name: "X-Request-Id", value: requestID)
            return response
        }
        guard relays.reserve() else {
            return Self.error(
                .serviceUnavailable, "too_many_websockets",
                "The ingress already relays its limit of \(relays.limit) WebSocket connections; try again later.", requestID: requestID)
        }
        let url = base.replacingPrefix("http://", with: "ws://").replacingPrefix("https://", with: "wss://") + request.head.target
        let connection: WebSocketClientConnection
        do {
            connection = try await WebSocketClient.connect(
                url: url, headers: Self.upstreamWebSocketHeaders(for: request, requestID: requestID),
                subprotocols: Self.offeredSubprotocols(request.headers), timeout: configuration.upstreamTimeout,
                configuration: webSocketClientConfiguration, eventLoop: client.eventLoop)
        } catch {
            relays.unreserve()
            return webSocketFailure(error, upstream: upstream, base: base, request: request, requestID: requestID, logger: logger)
        }
        let lease = relays.register(connection)
        if configuration.accessLog {
            logger.info(
                "websocket relayed",
                ["path": .string(String(request.path)), "upstream": .string(upstream.rawValue), "remote": .string(request.remoteAddress)])
        }
        var headers: HTTPHeaders = ["X-Request-Id": requestID]
        if let chosen = connection.subprotocol { headers.add(name: "Sec-WebSocket-Protocol", value: chosen) }
        let options = WebSocketOptions(
            maxFrameSize: configuration.webSocketMaxFrameBytes, maxMessageSize: configuration.webSocketMaxMessageBytes,
            pingInterval: nil)  // keep-alive pings are the endpoints' business
        return HTTPResponse(
            status: .switchingProtocols, headers: headers,
            body: .webSocket(options) { session in
                // The server cancels this task as soon as the client's socket closes, but the
                // relay must still run the upstream's closing handshake (with the client's
                // code): it runs in a task of its own, which cancellation does not reach. That task
                // prefers the session's event loop as the handler does (the session's methods
                // expect to resume there).
                await Task(executorPreference: session.eventLoop) {
                    defer { lease.release() }
                    await WebSocketRelay.run(client: session, upstream: connection)
                }.value
            })
    }

    /// The relay's client limits, the same as its server side's.
    var webSocketClientConfiguration: WebSocketClient.Configuration {
        var config = WebSocketClient.Configuration()
        config.maxFrameSize = configuration.webSocketMaxFrameBytes
        config.maxMessageSize = configuration.webSocketMaxMessageBytes
        return config
    }

    /// The headers of the upstream upgrade: those of a proxied request (`Authorization`,
    /// `Origin`, `Cookie`, `traceparent`, `X-Request-Id`, `X-Forwarded-*`...), without the
    /// client's own handshake fields, which the relay's handshake replaces.
    static func upstreamWebSocketHeaders(for request: HTTPRequest, requestID: String) -> HTTPHeaders {
        var headers = ProxyHeaders.upstreamRequestHeaders(for: request, requestID: requestID)
        for name in ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept"] {
            headers.remove(name: name)
        }
        return headers
    }

    /// The subprotocols the client offered, in its order.
    static func offeredSubprotocols(_ headers: HTTPHeaders) -> [String] {
        headers.values("sec-websocket-protocol").flatMap { value in
            value.split(separator: ",").map { String($0.trimmingCharacters(in: " \t")) }.filter { !$0.isEmpty }
        }
    }

    /// The client's answer when the upstream side could not be opened.
    private func webSocketFailure(
        _ error: any Error, upstream: IngressUpstream, base: String, request: HTTPRequest, requestID: String, logger: Logger
    ) -> HTTPResponse {
        let failure = error as? WebSocketClientError ?? WebSocketClientError(.connectFailed, String(describing: error))
        if failure.kind == .handshakeRefused, let status = failure.status {
            // The upstream's own answer (401 invalid_token, 403, 404...), as a proxied response would be.
            var headers = ProxyHeaders.downstreamResponseHeaders(failure.headers)
            if !headers.contains("x-request-id") { headers.add(name: "X-Request-Id", value: requestID) }
            return HTTPResponse(status: status, headers: headers, body: .bytes(failure.body))
        }
        let name = upstream.rawValue
        let (status, code, message): (HTTPStatus, String, String)
        switch failure.kind {
        case .timeout:
            (status, code, message) = (.gatewayTimeout, "upstream_timeout", "\(name) did not answer the WebSocket upgrade in time.")
        case .connectFailed, .connectionClosed, .cancelled:
            (status, code, message) = (.badGateway, "upstream_unavailable", "\(name) is not available at \(base).")
        case .handshakeRefused, .handshakeFailed, .protocolError, .invalidURL, .invalidRequest, .tlsFailed:
            (status, code, message) = (.badGateway, "bad_gateway", "\(name) sent an answer the ingress cannot forward.")
        }
        logger.warning(
            "websocket upstream failed",
            [
                "path": .string(String(request.path)), "upstream": .string(name), "status": .int(status.code),
                "error": .string(failure.description),
            ])
        return Self.error(status, code, message, requestID: requestID)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var s = self
        while let f = s.first, set.contains(f) { s.removeFirst() }
        while let l = s.last, set.contains(l) { s.removeLast() }
        return s
    }
}
