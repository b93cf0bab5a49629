/// The label values of one child in a metric family, used as a dictionary key.
///
/// Up to three values are stored inline, so building a key for the common label counts
/// allocates nothing (Swift strings up to 15 UTF-8 bytes are stored inline too).
enum LabelKey: Hashable, Sendable {
    case none
    case one(String)
    case two(String, String)
    case three(String, String, String)
    case many([String])

    /// Normalizes to the inline cases where possible, so equal values give equal keys.
    init(_ values: [String]) {
        switch values.count {
        case 0: self = .none
        case 1: self = .one(values[0])
        case 2: self = .two(values[0], values[1])
        case 3: self = .three(values[0], values[1], values[2])
        default: self = .many(values)
        }
    }

    var count: Int {
        switch self {
        case .none: return 0
        case .one: return 1
        case .two: return 2
        case .three: return 3
        case .many(let values): return values.count
        }
    }

    var values: [String] {
        switch self {
        case .none: return []
        case .one(let a): return [a]
        case .two(let a, let b): return [a, b]
        case .three(let a, let b, let c): return [a, b, c]
        case .many(let values): return values
        }
    }
}
