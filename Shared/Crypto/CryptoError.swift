import COpenSSL

/// An error raised by a `BulkheadCrypto` operation.
///
/// `message` says what we were doing; `openSSLErrors` holds the entries that were on
/// OpenSSL's (thread-local) error queue at the time, rendered with `ERR_error_string_n`.
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What failed, in our words (for example `"EVP_DigestSign failed"`).
    public var message: String
    /// OpenSSL's own error strings, oldest first. Empty when the failure was detected by us.
    public var openSSLErrors: [String]

    /// Creates an error with an explicit message and OpenSSL error strings.
    public init(_ message: String, openSSLErrors: [String] = []) {
        self.message = message
        self.openSSLErrors = openSSLErrors
    }

    /// Creates an error for a failed OpenSSL call, draining OpenSSL's error queue into it.
    ///
    /// Call this on the same thread, right after the failing call (the queue is thread-local).
    public static func openSSL(_ message: String) -> CryptoError {
        CryptoError(message, openSSLErrors: OpenSSLErrorQueue.drain())
    }

    /// The message followed by the OpenSSL error strings, if any.
    public var description: String {
        openSSLErrors.isEmpty ? message : "\(message): \(openSSLErrors.joined(separator: "; "))"
    }
}

/// Access to OpenSSL's thread-local error queue.
enum OpenSSLErrorQueue {
    /// Removes every entry from the calling thread's error queue and renders it as text.
    static func drain() -> [String] {
        var errors: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            errors.append(describe(code))
        }
        return errors
    }

    /// Renders one packed error code with `ERR_error_string_n`.
    static func describe(_ code: UInt) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let length = buffer.count
        return buffer.withUnsafeMutableBufferPointer { pointer -> String in
            guard let base = pointer.baseAddress else { return "OpenSSL error \(code)" }
            ERR_error_string_n(code, base, length)
            return String(cString: base)
        }
    }

    /// Empties the queue before an operation whose result is judged by looking at it.
    static func clear() {
        ERR_clear_error()
    }
}
