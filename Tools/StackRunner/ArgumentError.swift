/// A command line the runner cannot accept; `bulkhead` prints it with a usage hint and exits 2.
public struct ArgumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
