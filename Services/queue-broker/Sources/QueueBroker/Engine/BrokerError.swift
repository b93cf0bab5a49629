import BulkheadHTTP

/// A broker failure with a stable code and the HTTP status it maps to.
///
/// The engine throws these; the HTTP layer renders them as `{"error":{"code","message"}}`.
public struct BrokerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable machine-readable code, e.g. `queue_not_found`.
    public var code: String
    /// Human-readable explanation naming the offending value.
    public var message: String
    /// HTTP status code.
    public var status: Int

    /// Creates an error.
    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    public var description: String { "\(status) \(code): \(message)" }

    /// The equivalent `HTTPError`.
    public var httpError: HTTPError { HTTPError(HTTPStatus(code: status), code: code, message: message) }

    static func queueNotFound(_ name: String) -> BrokerError {
        BrokerError(404, "queue_not_found", "No queue named '\(name)'.")
    }
    static func invalidReceipt(_ why: String) -> BrokerError {
        BrokerError(400, "invalid_receipt", why)
    }
    static func outOfRange(_ field: String, _ why: String) -> BrokerError {
        BrokerError(422, "setting_out_of_range", "\(field) \(why).")
    }
    static func invalid(_ field: String, _ why: String) -> BrokerError {
        BrokerError(422, "invalid_field", "\(field) \(why).")
    }
}
