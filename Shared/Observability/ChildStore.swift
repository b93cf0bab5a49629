import Synchronization

/// The children of one metric family, keyed by label values, created on first use.
final class ChildStore<Child: AnyObject & Sendable>: Sendable {
    let metricName: String
    let labelNames: [String]
    private let children = Mutex<[LabelKey: Child]>([:])
    private let make: @Sendable () -> Child

    init(metricName: String, labelNames: [String], make: @escaping @Sendable () -> Child) {
        self.metricName = metricName
        self.labelNames = labelNames
        self.make = make
    }

    /// The child for `key`, created on first use. Stops the program when the number of
    /// values does not match the label names: that is a programming error at the call site.
    @inline(__always)
    func child(_ key: LabelKey) -> Child {
        if key.count != labelNames.count {
            preconditionFailure(
                "metric \(metricName) has \(labelNames.count) label(s) \(labelNames) but was given \(key.count) value(s) \(key.values)")
        }
        return children.withLock { children in
            if let existing = children[key] { return existing }
            let created = make()
            children[key] = created
            return created
        }
    }

    /// Removes the child for `values`, if present.
    func remove(_ key: LabelKey) {
        _ = children.withLock { $0.removeValue(forKey: key) }
    }

    /// Every child with its label values, sorted by label values for stable output.
    func sortedSnapshot() -> [(values: [String], child: Child)] {
        let entries = children.withLock { children in children.map { (values: $0.key.values, child: $0.value) } }
        return entries.sorted { $0.values.lexicographicallyPrecedes($1.values) }
    }
}
