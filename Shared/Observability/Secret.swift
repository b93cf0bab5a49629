/// A configuration value that must never be printed, such as a password or signing key.
///
/// ``description``, ``debugDescription`` and reflection (`dump`, `print`) all show `***`;
/// read the actual text explicitly through ``value``.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// The secret text.
    public let value: String

    /// Wraps `value`.
    public init(_ value: String) { self.value = value }

    /// Always `***`.
    public var description: String { "***" }

    /// Always `***`.
    public var debugDescription: String { "***" }

    /// A mirror with no children, so `dump` does not reveal the value.
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
