import BulkheadHTTP
import Foundation
import Shared
import CBulkheadShims
#if canImport(Glibc)
import Glibc
#endif

/// A deliberately dumb TCP client for tests: writes exactly the bytes given (so tests can send
/// malformed, split, pipelined or slow requests) and reads with timeouts.
public final class RawConnection: @unchecked Sendable {
    // Safe because: a test drives one RawConnection from one task at a time.
    public let fd: Int32
    private var parser = HTTPResponseParser()
    private var pendingHEAD: [Bool] = []

    /// Connects (blocking) to 127.0.0.1:port.
    public init(port: Int, host: String = "127.0.0.1") throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError("socket", errno: errno) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &addr.sin_addr)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            let e = errno
            Glibc.close(fd)
            throw IOError("connect", errno: e)
        }
        _ = bh_set_nodelay(fd)
    }

    deinit { Glibc.close(fd) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in bh_send(fd, raw.baseAddress! + offset, raw.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw IOError("send", errno: errno)
            }
            offset += n
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Half-closes the write side (the server sees EOF).
    public func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Reads what arrives within `timeout`; [] on timeout, nil when the peer closed.
    public func receive(timeout: Duration = .seconds(5), max: Int = 65536) throws -> [UInt8]? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let r = poll(&pfd, 1, ms)
        if r == 0 { return [] }
        if r < 0 { throw IOError("poll", errno: errno) }
        var buf = [UInt8](repeating: 0, count: max)
        let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
            if errno == ECONNRESET { return nil }
            throw IOError("recv", errno: errno)
        }
        if n == 0 { return nil }
        return Array(buf[0..<n])
    }

    /// True if the server closes the connection within `timeout` (after any bytes it still sends).
    public func waitForClose(timeout: Duration = .seconds(5)) throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let bytes = try receive(timeout: .milliseconds(50)) else { return true }
            if !bytes.isEmpty { parser.append(bytes) }
        }
        return false
    }

    /// Tells the response reader the next response answers a HEAD request.
    public func expectHEAD() { pendingHEAD.append(true) }

    /// Reads one complete response (skipping 1xx unless `informational`).
    public func readResponse(timeout: Duration = .seconds(5), informational: Bool = false) throws -> TestResponse {
        let deadline = ContinuousClock.now + timeout
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        parser.expectResponse(toHEAD: pendingHEAD.isEmpty ? false : pendingHEAD.removeFirst())
        while true {
            while let event = try parser.next() {
                switch event {
                case .head(let h, _):
                    head = h
                case .body(let b):
                    body.append(contentsOf: b)
                case .end:
                    guard let h = head else { continue }
                    if h.status.code < 200 && h.status.code != 101 && !informational {
                        head = nil
                        body = []
                        continue
                    }
                    return TestResponse(head: h, body: body)
                }
            }
            let remaining = deadline - ContinuousClock.now
            if remaining <= .zero { throw TestError("timed out waiting for a response") }
            guard let bytes = try receive(timeout: min(remaining, .milliseconds(100))) else {
                if let event = try parser.finish(), case .end = event, let h = head { return TestResponse(head: h, body: body) }
                throw TestError("connection closed before a complete response")
            }
            if !bytes.isEmpty { parser.append(bytes) }
        }
    }

    /// Bytes the response parser holds beyond the last response (after a 101, WebSocket frames).
    public func takeBufferedBytes() -> [UInt8] { parser.takeBufferedBytes() }
}

/// A response read by `RawConnection`.
public struct TestResponse: Sendable {
    public var head: HTTPResponseHead
    public var body: [UInt8]
    public var status: Int { head.status.code }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public func header(_ name: String) -> String? { head.headers.first(name) }
    /// The `error.code` of a JSON error body, if it is one.
    public var errorCode: String? {
        (try? JSONDecoder().decode(ErrorBody.self, from: Data(body)))?.error.code
    }
}

public struct TestError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
