/// The outcome of one non-blocking TLS step on a `TLSConnection`.
public enum TLSIOResult: Sendable, Equatable {
    /// The step completed. For `read`/`write`, the number of bytes (at least 1 for a non-empty
    /// buffer); for `handshake` and `shutdown`, 0.
    case done(Int)
    /// Wait until the socket is readable, then repeat the same call.
    /// (A `write` can ask for this too, and a `read` can ask for `.wantWrite`.)
    case wantRead
    /// Wait until the socket is writable, then repeat the same call.
    case wantWrite
    /// The peer closed the TLS session (close_notify, or a TCP close without one; see
    /// `TLSConnection.closedWithoutCloseNotify`). No more data will arrive.
    case closed
    /// The connection failed and must be dropped; do not call `shutdown()` afterwards.
    case failed(TLSError)
}
