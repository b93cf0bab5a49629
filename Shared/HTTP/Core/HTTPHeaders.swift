/// An ordered list of header fields. Names compare case-insensitively (RFC 9110 §5.1);
/// the original spelling and order are kept for forwarding.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral, CustomStringConvertible {
    public typealias Field = (name: String, value: String)
    @usableFromInline var fields: [Field]

    public init() { fields = [] }
    public init(_ fields: [(String, String)]) { self.fields = fields.map { (name: $0.0, value: $0.1) } }
    public init(dictionaryLiteral elements: (String, String)...) { self.init(elements) }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }
    public func makeIterator() -> IndexingIterator<[Field]> { fields.makeIterator() }

    /// Appends a field, keeping any existing ones with the same name.
    public mutating func add(name: String, value: String) { fields.append((name: name, value: value)) }
    /// Replaces every field with this name by one field.
    public mutating func replaceOrAdd(name: String, value: String) {
        remove(name: name)
        fields.append((name: name, value: value))
    }
    public mutating func remove(name: String) { fields.removeAll { Self.equalNames($0.name, name) } }

    /// The first value for a name, or nil.
    public func first(_ name: String) -> String? {
        for f in fields where Self.equalNames(f.name, name) { return f.value }
        return nil
    }
    public subscript(name: String) -> String? { first(name) }
    /// Every value for a name, in order.
    public func values(_ name: String) -> [String] { fields.filter { Self.equalNames($0.name, name) }.map(\.value) }
    public func contains(_ name: String) -> Bool { first(name) != nil }

    /// Comma-separated tokens across every field with this name, lowercased and trimmed
    /// (for `Connection`, `Transfer-Encoding`, `Upgrade`).
    public func tokens(_ name: String) -> [String] {
        values(name).flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }.filter { !$0.isEmpty }
    }

    public var description: String { fields.map { "\($0.name): \($0.value)" }.joined(separator: "\n") }

    /// ASCII case-insensitive comparison without allocating.
    @inlinable
    public static func equalNames(_ a: String, _ b: String) -> Bool {
        if a.utf8.count != b.utf8.count { return false }
        var i = b.utf8.makeIterator()
        for x in a.utf8 {
            guard let y = i.next() else { return false }
            if x == y { continue }
            let lx = x | 0x20
            guard lx == (y | 0x20), lx >= 0x61, lx <= 0x7a else { return false }
        }
        return true
    }
}

extension Substring {
    /// Trims spaces and horizontal tabs (HTTP optional whitespace).
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
