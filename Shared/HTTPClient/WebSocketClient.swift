import BulkheadHTTP

/// Opens WebSocket client connections (RFC 6455) on our event loop: non-blocking sockets,
/// no thread per connection. Frames sent are masked; pings are answered; messages larger
/// than the configured limits close the connection with 1009.
///
/// ```swift
/// let ws = try await WebSocketClient.connect(
///     url: "ws://127.0.0.1:8080/v1/stream?job=42", headers: ["Authorization": "Bearer \(token)"])
/// try await ws.send(text: #"{"subscribe":"42"}"#)
/// while let message = try await ws.receive() { print(message) }
/// print(ws.closeCode ?? "no code")
/// await ws.close()
/// ```
///
/// A server that answers the upgrade with an ordinary HTTP response (401, 404...) makes
/// `connect` throw `WebSocketClientError` of kind `.handshakeRefused` carrying that status,
/// headers and body.
public enum WebSocketClient {
    /// Connects to `url` and completes the opening handshake.
    ///
    /// - Parameters:
    ///   - url: `ws://host[:port]/path?query` (or `wss://`, TLS with the system trust store
    ///     unless `configuration.tlsContext` says otherwise).
    ///   - headers: extra request headers (`Authorization`, `Origin`, `Cookie`, `traceparent`...).
    ///     `Host` is used if given; the handshake's own fields (`Upgrade`, `Connection`,
    ///     `Sec-WebSocket-*`) are always ours and replace any given here.
    ///   - subprotocols: offered in `Sec-WebSocket-Protocol`, in preference order; the server's
    ///     choice is `WebSocketClientConnection.subprotocol`.
    ///   - timeout: for resolving, connecting, TLS and the server's answer together.
    ///   - configuration: limits.
    ///   - eventLoop: the loop to run the socket on (e.g. an `HTTPClient`'s `eventLoop`);
    ///     nil: a process-wide loop thread started on first use.
    /// - Throws: `WebSocketClientError`.
    public static func connect(
        url: String, headers: HTTPHeaders = HTTPHeaders(), subprotocols: [String] = [], timeout: Duration = .seconds(10),
        configuration: Configuration = Configuration(), eventLoop: EventLoop? = nil
    ) async throws -> WebSocketClientConnection {
        let parsed = try parseURL(url)
        let loop: EventLoop
        if let eventLoop {
            loop = eventLoop
        } else {
            loop = try SharedLoop.loop.get()
        }
        let handshake = WebSocketClientHandshake(subprotocols: subprotocols)
        let bytes = try requestBytes(url: parsed, headers: headers, handshake: handshake)
        let channel = WebSocketClientChannel(
            loop: loop, url: parsed, configuration: configuration, handshake: handshake, requestBytes: bytes)
        let timeoutNanos = max(1, timeout.clientNanoseconds)
        let opened = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<WebSocketClientChannel.Opened, any Error>) in
                loop.execute { channel.start(c, timeoutNanos: timeoutNanos) }
            }
        } onCancel: {
            loop.execute { channel.abort(WebSocketClientError(.cancelled, "connecting to \(url) was cancelled")) }
        }
        return WebSocketClientConnection(channel: channel, url: url, opened: opened)
    }

    /// `ws://` and `wss://` URLs, parsed as their `http`/`https` equivalents.
    static func parseURL(_ url: String) throws(WebSocketClientError) -> HTTPClientURL {
        let lower = url.prefix(6).lowercased()
        let http: String
        if lower.hasPrefix("ws://") {
            http = "http://" + url.dropFirst(5)
        } else if lower.hasPrefix("wss://") {
            http = "https://" + url.dropFirst(6)
        } else {
            throw WebSocketClientError(.invalidURL, "'\(url)' is not a ws:// or wss:// URL")
        }
        do {
            return try HTTPClientURL(http)
        } catch {
            throw WebSocketClientError(.invalidURL, "invalid WebSocket URL: \(error.message)")
        }
    }

    /// The upgrade request: the caller's headers minus the handshake's fields, then ours.
    static func requestBytes(url: HTTPClientURL, headers: HTTPHeaders, handshake: WebSocketClientHandshake) throws(WebSocketClientError) -> [UInt8] {
        let ours: Set<String> = [
            "host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions",
            "sec-websocket-protocol", "content-length", "transfer-encoding",
        ]
        var merged = handshake.requestHeaders(host: headers.first("host") ?? url.hostHeader)
        for field in headers where !ours.contains(field.name.lowercased()) {
            merged.add(name: field.name, value: field.value)
        }
        do {
            return try RequestEncoder.encode(
                HTTPClientRequest(method: .get, url: url.description, headers: merged), url: url, userAgent: nil)
        } catch {
            throw WebSocketClientError(error)
        }
    }

    /// The loop used when the caller passes none.
    private enum SharedLoop {
        static let loop: Result<EventLoop, WebSocketClientError> = {
            do {
                let loop = try EventLoop(index: 0)
                loop.start(name: "websocket-client")
                return .success(loop)
            } catch {
                return .failure(WebSocketClientError(.connectFailed, "could not start the WebSocket client's event loop: \(error)"))
            }
        }()
    }
}
