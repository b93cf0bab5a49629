import BulkheadCrypto
import BulkheadHTTP

extension WebSocketClient {
    /// Limits of a WebSocket client connection; the defaults match the server's `WebSocketOptions`.
    ///
    /// ```swift
    /// var config = WebSocketClient.Configuration()
    /// config.maxMessageSize = 64 * 1024
    /// let ws = try await WebSocketClient.connect(url: "ws://127.0.0.1:8080/ws", configuration: config)
    /// ```
    public struct Configuration: Sendable {
        /// The largest frame payload accepted from the server; larger: close 1009.
        public var maxFrameSize: Int = 1 << 20
        /// The largest message accepted from the server, summed over its fragments; larger: close 1009.
        public var maxMessageSize: Int = 4 << 20
        /// Largest response head of the opening handshake.
        public var maxResponseHeadBytes: Int = 64 * 1024
        /// Most body bytes kept from a refused handshake's response (the rest is not read).
        public var maxRefusalBodyBytes: Int = 64 * 1024
        /// Received messages queued before the socket stops being read (TCP backpressure);
        /// reading resumes once a quarter of them have been consumed.
        public var receiveQueueMessages: Int = 64
        /// Unsent bytes above which `send` waits for the socket to drain.
        public var writeHighWatermark: Int = 256 * 1024
        /// After a close frame was sent, time the server gets to answer it before the socket is closed.
        public var closeTimeout: Duration = .seconds(2)
        /// TLS settings for `wss://`; nil: the system trust store, TLS 1.2 or later.
        public var tlsContext: TLSClientContext?

        public init() {}
    }
}
