/// The XOR masking of RFC 6455 §5.3, eight bytes per step.
///
/// Internal helper shared by ``WebSocketFrameParser`` (unmasking client frames) and
/// ``WebSocketFrameEncoder`` (masking frames a client sends).
enum WebSocketMasking {
    /// Writes `source[i] ^ key[i % 4]` to `destination[i]` for `i` in `0..<count`.
    /// `source` and `destination` may be the same memory.
    static func apply(
        key: (UInt8, UInt8, UInt8, UInt8),
        source: UnsafeRawPointer,
        destination: UnsafeMutableRawPointer,
        count: Int
    ) {
        // The key repeated twice, in memory order, so the XOR is endian-neutral.
        var mask: UInt64 = 0
        withUnsafeMutableBytes(of: &mask) { m in
            m[0] = key.0; m[1] = key.1; m[2] = key.2; m[3] = key.3
            m[4] = key.0; m[5] = key.1; m[6] = key.2; m[7] = key.3
        }
        var i = 0
        // Four words per iteration, then single words.
        while i &+ 32 <= count {
            let a = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let b = source.loadUnaligned(fromByteOffset: i &+ 8, as: UInt64.self)
            let c = source.loadUnaligned(fromByteOffset: i &+ 16, as: UInt64.self)
            let d = source.loadUnaligned(fromByteOffset: i &+ 24, as: UInt64.self)
            destination.storeBytes(of: a ^ mask, toByteOffset: i, as: UInt64.self)
            destination.storeBytes(of: b ^ mask, toByteOffset: i &+ 8, as: UInt64.self)
            destination.storeBytes(of: c ^ mask, toByteOffset: i &+ 16, as: UInt64.self)
            destination.storeBytes(of: d ^ mask, toByteOffset: i &+ 24, as: UInt64.self)
            i &+= 32
        }
        while i &+ 8 <= count {
            let w = source.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            destination.storeBytes(of: w ^ mask, toByteOffset: i, as: UInt64.self)
            i &+= 8
        }
        // `i` is a multiple of 8 here, so the key phase restarts at 0.
        guard i < count else { return }
        withUnsafeBytes(of: mask) { keyBytes in
            var k = 0
            while i < count {
                let byte = source.load(fromByteOffset: i, as: UInt8.self)
                destination.storeBytes(of: byte ^ keyBytes[k], toByteOffset: i, as: UInt8.self)
                i &+= 1
                k &+= 1
            }
        }
    }
}
