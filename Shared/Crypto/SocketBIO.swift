import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// A `BIO` over a non-blocking socket that sends with `MSG_NOSIGNAL`.
///
/// OpenSSL's own socket BIO writes with `write(2)`, which raises SIGPIPE when the peer has gone
/// away and kills a process that has not ignored the signal. This BIO uses `send`/`recv`
/// instead, reports `EAGAIN` as "retry", and marks end of file so OpenSSL can tell a TCP close
/// from an error. The descriptor is not owned: freeing the BIO leaves it open.
enum SocketBIO {
    /// The process-wide method table, made once and never freed (BIOs of any connection may use it).
    private struct Method: @unchecked Sendable {  // Immutable after creation; OpenSSL only reads it.
        let pointer: OpaquePointer?
    }

    /// `BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY`, what `BIO_clear_retry_flags` clears
    /// (the parenthesised macro is not imported into Swift).
    private static let retryFlags: Int32 =
        BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY

    private static let method: Method = Method(pointer: makeMethod())

    /// Creates a BIO for `fd`, or `nil` if OpenSSL is out of memory.
    static func make(fd: Int32) -> OpaquePointer? {
        guard let method = method.pointer, let bio = BIO_new(method) else { return nil }
        // fd + 1 so that descriptor 0 is not stored as a NULL pointer.
        BIO_set_data(bio, UnsafeMutableRawPointer(bitPattern: Int(fd) + 1))
        BIO_set_init(bio, 1)
        return bio
    }

    private static func descriptor(of bio: OpaquePointer?) -> Int32 {
        Int32(truncatingIfNeeded: Int(bitPattern: BIO_get_data(bio)) - 1)
    }

    private static func makeMethod() -> OpaquePointer? {
        let name = strdup("bulkhead-socket")  // Lives as long as the method: the whole process.
        guard let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, name) else { return nil }
        BIO_meth_set_write_ex(method) { bio, data, length, written in
            BIO_clear_flags(bio, SocketBIO.retryFlags)
            let sent = send(SocketBIO.descriptor(of: bio), data, length, Int32(MSG_NOSIGNAL))
            if sent >= 0 {
                written?.pointee = sent
                return 1
            }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                BIO_set_flags(bio, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY)
            }
            return 0
        }
        BIO_meth_set_read_ex(method) { bio, data, length, readBytes in
            BIO_clear_flags(bio, SocketBIO.retryFlags)
            guard length > 0 else {
                readBytes?.pointee = 0
                return 1
            }
            let received = recv(SocketBIO.descriptor(of: bio), data, length, 0)
            if received > 0 {
                readBytes?.pointee = received
                return 1
            }
            if received == 0 {
                BIO_set_flags(bio, BIO_FLAGS_IN_EOF)
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
            }
            return 0
        }
        BIO_meth_set_ctrl(method) { bio, command, _, pointer in
            switch command {
            case BIO_CTRL_FLUSH:
                return 1
            case BIO_CTRL_EOF:
                return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0
            case BIO_C_GET_FD:
                let fd = SocketBIO.descriptor(of: bio)
                pointer?.assumingMemoryBound(to: Int32.self).pointee = fd
                return Int(fd)
            default:
                return 0
            }
        }
        return method
    }

    /// Whether the socket under `bio` has reported end of file.
    static func sawEndOfFile(_ bio: OpaquePointer?) -> Bool {
        BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0
    }
}
