/// The one JSON error shape every Bulkhead service answers with:
/// `{"error":{"code":"...","message":"..."}}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    public struct Detail: Codable, Sendable, Equatable {
        /// A stable, machine-readable code such as `body_too_large`.
        public var code: String
        /// A sentence for humans.
        public var message: String
        public init(code: String, message: String) { self.code = code; self.message = message }
    }
    public var error: Detail
    public init(code: String, message: String) { error = Detail(code: code, message: message) }
}
