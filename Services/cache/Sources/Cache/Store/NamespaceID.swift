/// A namespace's identity: entries are only ever looked up inside one (tenant, namespace).
struct NamespaceID: Hashable, Sendable {
    var tenant: String
    var namespace: String
}
