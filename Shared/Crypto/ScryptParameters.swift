/// Cost parameters for scrypt (RFC 7914), kept next to each stored hash so they can be raised later.
///
/// Store these with every derived key (see `ScryptPasswordHash`). When the service's target
/// parameters go up, `isWeaker(than:)` tells which stored hashes to re-derive at the next login.
public struct ScryptParameters: Sendable, Hashable, Codable, CustomStringConvertible {
    /// CPU/memory cost `N`: a power of two greater than 1.
    public var n: UInt64
    /// Block size `r`.
    public var r: UInt32
    /// Parallelisation `p`.
    public var p: UInt32
    /// Length of the derived key in bytes.
    public var length: Int

    /// Creates parameters. Nothing is checked until `validate(maxMemory:)` or a derivation.
    public init(n: UInt64, r: UInt32, p: UInt32, length: Int = 32) {
        self.n = n
        self.r = r
        self.p = p
        self.length = length
    }

    /// The longest derived key accepted (RFC 7914 allows more; nothing here needs it).
    public static let maximumLength = 1024

    /// A sensible default for interactive logins: N = 2^15, r = 8, p = 1, 32 bytes (32 MiB of memory).
    public static let interactive = ScryptParameters(n: 1 << 15, r: 8, p: 1, length: 32)

    /// log2(N) when N is a power of two, else `nil`.
    public var logN: Int? {
        guard n > 1, n & (n - 1) == 0 else { return nil }
        return n.trailingZeroBitCount
    }

    /// Bytes of memory a derivation needs, as OpenSSL counts it (`128·r·p + 128·r·(N+2)`);
    /// `nil` if that overflows 64 bits.
    public var memoryRequired: UInt64? {
        let block = UInt64(r).multipliedReportingOverflow(by: 128)
        guard !block.overflow else { return nil }
        let blocks = UInt64(p).multipliedReportingOverflow(by: block.partialValue)
        let (nPlusTwo, nOverflow) = n.addingReportingOverflow(2)
        let table = nPlusTwo.multipliedReportingOverflow(by: block.partialValue)
        guard !blocks.overflow, !nOverflow, !table.overflow else { return nil }
        let total = blocks.partialValue.addingReportingOverflow(table.partialValue)
        return total.overflow ? nil : total.partialValue
    }

    /// Throws unless the parameters are valid for scrypt and need at most `maxMemory` bytes.
    public func validate(maxMemory: UInt64 = Scrypt.defaultMaxMemory) throws {
        guard logN != nil else { throw CryptoError("scrypt N must be a power of two greater than 1, got \(n)") }
        guard r > 0, p > 0 else { throw CryptoError("scrypt r and p must be positive, got r=\(r) p=\(p)") }
        // RFC 7914: p <= (2^32 - 1) * 32 / (128 * r), computed without overflow.
        let work = (UInt64(p) * 128).multipliedReportingOverflow(by: UInt64(r))
        guard !work.overflow, work.partialValue <= UInt64(UInt32.max) * 32 else {
            throw CryptoError("scrypt p=\(p) too large for r=\(r)")
        }
        // RFC 7914: N < 2^(128 * r / 8); only binding for r < 4.
        if r < 4, n >= UInt64(1) << UInt64(16 * r) {
            throw CryptoError("scrypt N=\(n) too large for r=\(r)")
        }
        guard length > 0, length <= Self.maximumLength else {
            throw CryptoError("scrypt key length must be between 1 and \(Self.maximumLength) bytes, got \(length)")
        }
        guard let memory = memoryRequired, memory <= maxMemory else {
            throw CryptoError(
                "scrypt parameters \(self) need \(memoryRequired.map(String.init) ?? "over 2^64") bytes, "
                    + "more than the \(maxMemory)-byte limit")
        }
    }

    /// Whether any cost here is lower than in `target` (so a hash made with these should be
    /// re-derived with `target`). A longer `length` in `target` also counts.
    public func isWeaker(than target: ScryptParameters) -> Bool {
        n < target.n || r < target.r || p < target.p || length < target.length
    }

    /// Compact text form, for example `"ln=15,r=8,p=1,len=32"`.
    public var description: String {
        let cost = logN.map { "ln=\($0)" } ?? "n=\(n)"
        return "\(cost),r=\(r),p=\(p),len=\(length)"
    }

    /// Parses the `description` form. Returns `nil` for anything else.
    public init?(description text: String) {
        var n: UInt64?
        var r: UInt32?
        var p: UInt32?
        var length: Int?
        for field in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2 else { return nil }
            let value = String(pair[1])
            switch pair[0] {
            case "ln":
                guard n == nil, let exponent = Int(value), (1...63).contains(exponent) else { return nil }
                n = UInt64(1) << UInt64(exponent)
            case "n":
                guard n == nil, let parsed = UInt64(value) else { return nil }
                n = parsed
            case "r":
                guard r == nil, let parsed = UInt32(value) else { return nil }
                r = parsed
            case "p":
                guard p == nil, let parsed = UInt32(value) else { return nil }
                p = parsed
            case "len":
                guard length == nil, let parsed = Int(value) else { return nil }
                length = parsed
            default:
                return nil
            }
        }
        guard let n, let r, let p, let length else { return nil }
        self.init(n: n, r: r, p: p, length: length)
    }
}
