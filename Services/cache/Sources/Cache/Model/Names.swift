/// Validation of the names that appear in paths and bodies.
///
/// Tenants and namespaces: `[A-Za-z0-9._:-]{1,128}`; entry keys the same set up to 256 bytes;
/// counter keys also allow `/` (callers build them as `tenant/limit/window`).
enum Names {
    enum Kind: String {
        case tenant, namespace, key
        case counterKey = "counter key"

        var maxLength: Int {
            switch self {
            case .tenant, .namespace: return 128
            case .key, .counterKey: return 256
            }
        }
    }

    /// Tenant names that would collide with a literal route segment (`/internal/v1/cache/stats`).
    static let reservedTenants: Set<String> = ["stats"]

    /// Whether `name` is a valid `kind` name.
    static func isValid(_ name: String, _ kind: Kind) -> Bool {
        let utf8 = name.utf8
        guard !utf8.isEmpty, utf8.count <= kind.maxLength else { return false }
        for b in utf8 {
            switch b {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                continue
            case UInt8(ascii: "/") where kind == .counterKey:
                continue
            default:
                return false
            }
        }
        return true
    }

    /// Throws 400 `invalid_name` unless `name` is valid.
    static func check(_ name: String, _ kind: Kind) throws(CacheError) {
        guard isValid(name, kind) else {
            let allowed = kind == .counterKey ? "A-Z a-z 0-9 . _ : - /" : "A-Z a-z 0-9 . _ : -"
            throw CacheError(
                .badRequest, "invalid_name",
                "Invalid \(kind.rawValue) '\(name.prefix(80))': use 1–\(kind.maxLength) characters from \(allowed).")
        }
        if kind == .tenant, reservedTenants.contains(name) {
            throw CacheError(.badRequest, "invalid_name", "The tenant name '\(name)' is reserved.")
        }
    }
}
