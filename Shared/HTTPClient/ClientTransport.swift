/// The outcome of one non-blocking transport operation.
enum TransportResult {
    /// This many bytes were read or written (a finished handshake reports 0).
    case done(Int)
    /// Retry when the socket is readable.
    case wantRead
    /// Retry when the socket is writable.
    case wantWrite
    /// The peer closed the connection (EOF, or TLS close_notify).
    case closed
    case failed(HTTPClientError)
}

/// Bytes in and out of a connected non-blocking socket: plain TCP or TLS. Used only on
/// the connection's event loop. The transport does not own the socket.
protocol ClientTransport: AnyObject {
    /// Advances the TLS handshake; plain TCP is done at once.
    func handshake() -> TransportResult
    func read(into buffer: UnsafeMutableRawBufferPointer) -> TransportResult
    func write(_ bytes: UnsafeRawBufferPointer) -> TransportResult
    /// Whether decrypted input may be waiting inside the transport while the socket is not
    /// readable (TLS): reads must then continue until `wantRead`.
    var buffersInput: Bool { get }
}
