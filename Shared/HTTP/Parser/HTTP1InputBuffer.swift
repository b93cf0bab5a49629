#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes received and not yet consumed by a parser: one array with a read index, compacted
/// only when the consumed prefix is large, so that consuming never moves memory.
struct HTTP1InputBuffer: Sendable {
    private(set) var storage: [UInt8] = []
    private(set) var readIndex = 0
    /// Bytes after `readIndex` already known to hold no LF (so a partial line is scanned once).
    private var scanned = 0

    /// Unconsumed bytes.
    var count: Int { storage.count - readIndex }
    var isEmpty: Bool { readIndex == storage.count }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        makeRoom()
        storage.append(contentsOf: bytes)
    }

    mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        makeRoom()
        storage.append(contentsOf: bytes)
    }

    /// Drops the consumed prefix when everything was consumed (free) or when it is at least
    /// half the array (amortised: each byte moves at most once on average).
    private mutating func makeRoom() {
        if readIndex == 0 { return }
        if readIndex == storage.count {
            storage.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= 4096 && readIndex >= storage.count / 2 {
            storage.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }

    /// The unconsumed byte at `offset` (caller checks `offset < count`).
    subscript(offset: Int) -> UInt8 { storage[readIndex + offset] }

    mutating func consume(_ n: Int) {
        readIndex += n
        scanned = 0
    }

    /// Removes and returns up to `n` unconsumed bytes.
    mutating func take(_ n: Int) -> [UInt8] {
        let end = readIndex + n
        let bytes = Array(storage[readIndex..<end])
        consume(n)
        return bytes
    }

    mutating func takeAll() -> [UInt8] { take(count) }

    mutating func removeAll() {
        storage = []
        readIndex = 0
        scanned = 0
    }

    /// Finds the next CRLF-terminated line. Returns its length without the CRLF, or nil when
    /// the line is not complete yet. The line is not consumed (call `consume(length + 2)`).
    ///
    /// - Throws: `overflow` when the line, CRLF included, is or is bound to be longer than
    ///   `maxLength` (checked before the LF arrives, so nothing is buffered unbounded);
    ///   malformed on a LF not preceded by CR.
    mutating func nextLine(maxLength: Int, overflow: HTTP1LineOverflow) throws(HTTPParseError) -> Int? {
        let start = readIndex + scanned
        let end = storage.count
        let lf: Int = storage.withUnsafeBufferPointer { p in
            guard start < end, let base = p.baseAddress,
                  let found = memchr(base + start, Int32(HTTP1Bytes.lf), end - start)
            else { return -1 }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        if lf < 0 {
            scanned = end - readIndex
            // The line needs at least one more byte (the LF).
            if scanned + 1 > maxLength { throw overflow.error }
            return nil
        }
        let total = lf - readIndex + 1
        if total > maxLength { throw overflow.error }
        guard total >= 2, storage[lf - 1] == HTTP1Bytes.cr else {
            throw .malformed("line terminated by a bare LF")
        }
        scanned = total - 1  // the LF itself: found again at once if asked before consuming
        return total - 2
    }

    /// Calls `body` with the first `length` unconsumed bytes.
    func withBytes<R>(
        _ length: Int, _ body: (UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> R
    ) throws(HTTPParseError) -> R {
        let start = readIndex
        return try storage.withUnsafeBufferPointer { (p) throws(HTTPParseError) -> R in
            try body(UnsafeBufferPointer(rebasing: p[start..<start + length]))
        }
    }
}

/// Which error a too-long line raises.
enum HTTP1LineOverflow {
    case headerSection
    case chunkLine

    var error: HTTPParseError {
        switch self {
        case .headerSection: HTTPParseError(.headersTooLarge, "header section exceeds the size limit")
        case .chunkLine: .malformed("chunk size line exceeds the size limit")
        }
    }
}

/// Byte classes of RFC 9110 / 9112.
enum HTTP1Bytes {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let sp: UInt8 = 0x20
    static let htab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let equals: UInt8 = 0x3D
    static let dquote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C

    // tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    private static let tokenMaskLow: UInt64 = 0x03FF_6CFA_0000_0000
    private static let tokenMaskHigh: UInt64 = 0x57FF_FFFF_C7FF_FFFE

    @inline(__always)
    static func isToken(_ b: UInt8) -> Bool {
        if b < 64 { return (tokenMaskLow >> UInt64(b)) & 1 != 0 }
        if b < 128 { return (tokenMaskHigh >> UInt64(b &- 64)) & 1 != 0 }
        return false
    }

    @inline(__always)
    static func isWhitespace(_ b: UInt8) -> Bool { b == sp || b == htab }

    /// field-vchar / SP / HTAB (obs-text 0x80-0xFF allowed): everything but controls and DEL.
    @inline(__always)
    static func isFieldContent(_ b: UInt8) -> Bool { (b >= 0x20 && b != 0x7F) || b == htab }

    /// VCHAR: visible ASCII, what a request target may contain.
    @inline(__always)
    static func isVisibleASCII(_ b: UInt8) -> Bool { b >= 0x21 && b <= 0x7E }

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    @inline(__always)
    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: Int(b &- 0x30)
        case 0x41...0x46: Int(b &- 0x41 &+ 10)
        case 0x61...0x66: Int(b &- 0x61 &+ 10)
        default: nil
        }
    }

    /// Whether `bytes` spell `lowercaseName` ignoring ASCII case. `bytes` must be token
    /// characters and `lowercaseName` lowercase letters, digits and "-".
    @inline(__always)
    static func equalsToken(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercaseName: StaticString) -> Bool {
        guard bytes.count == lowercaseName.utf8CodeUnitCount else { return false }
        let name = lowercaseName.utf8Start
        for i in 0..<bytes.count where bytes[i] | 0x20 != name[i] { return false }
        return true
    }

    /// Removes leading and trailing SP / HTAB.
    static func trimmed(_ p: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = p.count
        while start < end, isWhitespace(p[start]) { start += 1 }
        while end > start, isWhitespace(p[end - 1]) { end -= 1 }
        return UnsafeBufferPointer(rebasing: p[start..<end])
    }

    /// `HTTP/DIGIT.DIGIT`: 1.0 and 1.1 accepted, any other such version is 505.
    static func parseVersion(_ p: UnsafeBufferPointer<UInt8>) throws(HTTPParseError) -> HTTPVersion {
        guard p.count == 8, p[0] == 0x48, p[1] == 0x54, p[2] == 0x54, p[3] == 0x50, p[4] == 0x2F,
              HTTP1Bytes.isDigit(p[5]), p[6] == 0x2E, HTTP1Bytes.isDigit(p[7])
        else { throw .malformed("invalid HTTP version") }
        let version = HTTPVersion(major: Int(p[5] &- 0x30), minor: Int(p[7] &- 0x30))
        guard version == .http1_1 || version == .http1_0 else {
            throw HTTPParseError(.versionNotSupported, "\(version) is not supported")
        }
        return version
    }
}
