/// Every problem found while reading configuration, reported together.
///
/// Thrown by ``Environment/validate()``. The ``description`` lists all problems in one
/// message, so a misconfigured service reports everything at once rather than one
/// problem per restart. Messages never contain secret values.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// One sentence per problem, each starting with the variable name, in the order found.
    public let problems: [String]

    /// Creates an error from problem sentences.
    public init(problems: [String]) {
        self.problems = problems
    }

    /// `invalid configuration (2 problems): PORT: ...; TIMEOUT: ...`
    public var description: String {
        let noun = problems.count == 1 ? "problem" : "problems"
        return "invalid configuration (\(problems.count) \(noun)): " + problems.joined(separator: "; ")
    }
}
