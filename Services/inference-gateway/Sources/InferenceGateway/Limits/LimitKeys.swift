import BulkheadCrypto

/// Counter keys of one tenant in the shared store: `gw/<tenant>/<limit>`, so every replica
/// charges the same counters. Tenant ids outside the key alphabet are replaced by a hash.
struct LimitKeys: Sendable, Equatable {
    let requests: String
    let tokens: String
    let cost: String
    let day: String
    let concurrent: String

    /// - Parameter epochDay: days since 1970 (UTC), so the daily counter is per calendar day.
    init(tenant: String, epochDay: Int) {
        let t = Self.safe(tenant)
        requests = "gw/\(t)/requests"
        tokens = "gw/\(t)/tokens"
        cost = "gw/\(t)/cost"
        day = "gw/\(t)/day/\(epochDay)"
        concurrent = "gw/\(t)/concurrent"
    }

    static func safe(_ tenant: String) -> String {
        let ok = !tenant.isEmpty && tenant.utf8.count <= 128 && tenant.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x3A || b == 0x2D
        }
        return ok ? tenant : "h-" + Hex.encode(SHA256.hash(tenant).prefix(16))
    }
}
