/// A route handler.
public typealias HTTPHandler = @Sendable (HTTPRequest, RequestContext) async throws -> HTTPResponse

/// One registered route.
public struct Route: Sendable {
    public var method: HTTPMethod
    /// The pattern as registered, e.g. `/v1/jobs/{id}`; used as the metrics label.
    public var pattern: String
    /// Largest accepted body, nil for the server default.
    public var bodyLimit: Int?
    public var handler: HTTPHandler
}

/// Collects routes, then freezes them into a `RouteTable` for lookup.
/// Patterns: literal segments, `{name}` (one segment), and a final `*` or `{name...}` (the rest).
///
/// ```swift
/// var router = Router()
/// router.get("/v1/jobs/{id}") { request, context in ... }
/// ```
public struct Router: Sendable {
    var routes: [Route] = []
    public init() {}

    public mutating func on(_ method: HTTPMethod, _ pattern: String, bodyLimit: Int? = nil, _ handler: @escaping HTTPHandler) {
        routes.append(Route(method: method, pattern: pattern, bodyLimit: bodyLimit, handler: handler))
    }
    public mutating func get(_ pattern: String, _ handler: @escaping HTTPHandler) { on(.get, pattern, handler) }
    public mutating func delete(_ pattern: String, _ handler: @escaping HTTPHandler) { on(.delete, pattern, handler) }
    public mutating func post(_ pattern: String, bodyLimit: Int? = nil, _ handler: @escaping HTTPHandler) {
        on(.post, pattern, bodyLimit: bodyLimit, handler)
    }
    public mutating func put(_ pattern: String, bodyLimit: Int? = nil, _ handler: @escaping HTTPHandler) {
        on(.put, pattern, bodyLimit: bodyLimit, handler)
    }
    public mutating func patch(_ pattern: String, bodyLimit: Int? = nil, _ handler: @escaping HTTPHandler) {
        on(.patch, pattern, bodyLimit: bodyLimit, handler)
    }

    /// Builds the lookup structure. Duplicate method+pattern is a programming error.
    public func freeze() -> RouteTable { RouteTable(routes: routes) }
}

/// The result of matching a path.
public enum RouteMatch: Sendable {
    case found(Route, parameters: [String: String])
    /// The path exists with other methods (405, with `Allow`).
    case methodNotAllowed(allowed: [HTTPMethod])
    case notFound
}

/// An immutable route tree: literal children in a dictionary, one parameter child, one catch-all.
public final class RouteTable: Sendable {
    final class Node: Sendable {
        let literals: [Substring: Node]
        let parameter: (name: String, node: Node)?
        let catchAll: (name: String, routes: [HTTPMethod: Route])?
        let routes: [HTTPMethod: Route]

        init(literals: [Substring: Node], parameter: (String, Node)?, catchAll: (String, [HTTPMethod: Route])?, routes: [HTTPMethod: Route]) {
            self.literals = literals
            self.parameter = parameter.map { (name: $0.0, node: $0.1) }
            self.catchAll = catchAll.map { (name: $0.0, routes: $0.1) }
            self.routes = routes
        }
    }

    /// A mutable node used only while building.
    private final class Builder {
        var literals: [Substring: Builder] = [:]
        var parameter: (String, Builder)?
        var catchAll: (String, [HTTPMethod: Route])?
        var routes: [HTTPMethod: Route] = [:]

        func freeze() -> Node {
            Node(
                literals: literals.mapValues { $0.freeze() },
                parameter: parameter.map { ($0.0, $0.1.freeze()) },
                catchAll: catchAll, routes: routes)
        }
    }

    let root: Node
    public let allRoutes: [Route]

    init(routes: [Route]) {
        allRoutes = routes
        let root = Builder()
        for route in routes {
            var node = root
            let segments = route.pattern.split(separator: "/", omittingEmptySubsequences: true)
            var isCatchAll = false
            for (i, segment) in segments.enumerated() {
                let last = i == segments.count - 1
                if last && (segment == "*" || (segment.hasPrefix("{") && segment.hasSuffix("...}"))) {
                    let name = segment == "*" ? "*" : String(segment.dropFirst().dropLast(4))
                    var existing = node.catchAll?.1 ?? [:]
                    precondition(existing[route.method] == nil, "duplicate route \(route.method) \(route.pattern)")
                    existing[route.method] = route
                    node.catchAll = (name, existing)
                    isCatchAll = true
                } else if segment.hasPrefix("{") && segment.hasSuffix("}") {
                    let name = String(segment.dropFirst().dropLast())
                    if let (existingName, child) = node.parameter {
                        precondition(existingName == name, "conflicting parameter names {\(existingName)} and {\(name)} in \(route.pattern)")
                        node = child
                    } else {
                        let child = Builder()
                        node.parameter = (name, child)
                        node = child
                    }
                } else {
                    if let child = node.literals[segment] {
                        node = child
                    } else {
                        let child = Builder()
                        node.literals[segment] = child
                        node = child
                    }
                }
            }
            if !isCatchAll {
                precondition(node.routes[route.method] == nil, "duplicate route \(route.method) \(route.pattern)")
                node.routes[route.method] = route
            }
        }
        self.root = root.freeze()
    }

    /// Matches a raw path (percent-decoding parameters). HEAD falls back to GET.
    public func match(method: HTTPMethod, path: Substring) -> RouteMatch {
        var parameters: [String: String] = [:]
        var node = root
        var rest = path.drop(while: { $0 == "/" })
        var catchAllCandidate: (name: String, routes: [HTTPMethod: Route], remainder: Substring)?
        while !rest.isEmpty {
            if let ca = node.catchAll { catchAllCandidate = (ca.name, ca.routes, rest) }
            let end = rest.firstIndex(of: "/") ?? rest.endIndex
            let segment = rest[..<end]
            rest = rest[end...].drop(while: { $0 == "/" })
            if let child = node.literals[segment] {
                node = child
            } else if let (name, child) = node.parameter, !segment.isEmpty {
                guard let decoded = PercentDecoding.decode(segment) else { return .notFound }
                parameters[name] = decoded
                node = child
            } else {
                return Self.resolve(catchAllCandidate, method: method, parameters: parameters)
            }
        }
        if node.routes.isEmpty {
            if let ca = node.catchAll { catchAllCandidate = (ca.name, ca.routes, "") }
            return Self.resolve(catchAllCandidate, method: method, parameters: parameters)
        }
        return Self.pick(node.routes, method: method, parameters: parameters)
    }

    private static func resolve(
        _ candidate: (name: String, routes: [HTTPMethod: Route], remainder: Substring)?, method: HTTPMethod,
        parameters: [String: String]
    ) -> RouteMatch {
        guard let candidate else { return .notFound }
        var p = parameters
        p[candidate.name] = String(candidate.remainder)
        return pick(candidate.routes, method: method, parameters: p)
    }

    private static func pick(_ routes: [HTTPMethod: Route], method: HTTPMethod, parameters: [String: String]) -> RouteMatch {
        if let r = routes[method] { return .found(r, parameters: parameters) }
        if method == .head, let r = routes[.get] { return .found(r, parameters: parameters) }
        var allowed = routes.keys.sorted { $0.rawValue < $1.rawValue }
        if routes[.get] != nil && routes[.head] == nil { allowed.append(.head) }
        return .methodNotAllowed(allowed: allowed)
    }
}
