#if canImport(Glibc)
import Glibc
#endif

/// Turns `bulkhead`'s arguments (without the program name) and environment into a `RunnerCommand`.
///
/// Flags take a value either as the next argument or after `=` (`--port 9000`, `--port=9000`).
/// Flags win over the environment (`PORT`, `HOST`, `DATA_DIR`), which wins over the defaults.
/// Anything unknown, missing or malformed is an `ArgumentError` naming the culprit.
///
/// ```swift
/// let command = try RunnerArgumentParser.parse(["run", "--base-port", "9080"], environment: ["PORT": "9000"])
/// ```
public enum RunnerArgumentParser {
    /// Flags that take a value, in the order the usage lists them.
    static let valueFlags: Set<String> = [
        "--port", "--host", "--base-port", "--data-dir", "--bin-dir", "--ready-timeout", "--stop-timeout", "--upstream-timeout",
    ]

    public static func parse(_ arguments: [String], environment: [String: String] = [:]) throws(ArgumentError) -> RunnerCommand {
        if arguments.first == "help" || arguments.contains(where: { $0 == "--help" || $0 == "-h" }) { return .help }
        guard let command = arguments.first else {
            throw ArgumentError("missing command: use 'bulkhead run' to start the stack")
        }
        guard command == "run" else {
            if command.hasPrefix("-") { throw ArgumentError("unknown option '\(command)' (the command comes first: 'bulkhead run \(command) ...')") }
            throw ArgumentError("unknown command '\(command)': the only command is 'run'")
        }
        var options = RunnerOptions()
        try applyEnvironment(environment, to: &options)
        var rest = arguments.dropFirst()
        var portFromFlag = false
        while let argument = rest.popFirst() {
            guard argument.hasPrefix("--") else {
                if argument.hasPrefix("-") { throw ArgumentError("unknown option '\(argument)'") }
                throw ArgumentError("unexpected argument '\(argument)': 'run' takes only options")
            }
            let (flag, inlineValue) = split(argument)
            guard valueFlags.contains(flag) else { throw ArgumentError("unknown option '\(flag)'") }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else if let next = rest.popFirst(), !next.hasPrefix("--") {
                value = next
            } else {
                throw ArgumentError("option '\(flag)' needs a value")
            }
            switch flag {
            case "--port":
                options.port = try integer(value, name: flag, range: 0...65535)
                portFromFlag = true
            case "--host":
                options.host = try address(value, name: flag)
            case "--base-port":
                options.basePort = try integer(value, name: flag, range: 1...(65535 - StackService.all.count + 1))
            case "--data-dir":
                options.dataDirectory = try path(value, name: flag)
            case "--bin-dir":
                options.binDirectory = try path(value, name: flag)
            case "--ready-timeout":
                options.readyTimeout = try duration(value, name: flag)
            case "--stop-timeout":
                options.stopTimeout = try duration(value, name: flag)
            default:
                options.upstreamTimeout = try duration(value, name: flag)
            }
        }
        if options.port != 0 && options.servicePorts.contains(options.port) {
            let source = portFromFlag ? "--port" : "PORT"
            throw ArgumentError(
                "\(source) \(options.port) collides with the service ports \(options.servicePorts.lowerBound)-\(options.servicePorts.upperBound); pick another port or --base-port")
        }
        return .run(options)
    }

    /// Reads `HOST`, `PORT` and `DATA_DIR`; empty values count as unset.
    private static func applyEnvironment(_ environment: [String: String], to options: inout RunnerOptions) throws(ArgumentError) {
        if let host = environment["HOST"], !host.isEmpty { options.host = try address(host, name: "HOST (environment)") }
        if let port = environment["PORT"], !port.isEmpty {
            options.port = try integer(port, name: "PORT (environment)", range: 0...65535)
        }
        if let dir = environment["DATA_DIR"], !dir.isEmpty { options.dataDirectory = dir }
    }

    private static func split(_ argument: String) -> (String, String?) {
        guard let eq = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<eq]), String(argument[argument.index(after: eq)...]))
    }

    static func integer(_ text: String, name: String, range: ClosedRange<Int>) throws(ArgumentError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw ArgumentError("\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// An IPv4 or IPv6 literal (the server binds literals only).
    static func address(_ text: String, name: String) throws(ArgumentError) -> String {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1 { return text }
        throw ArgumentError("\(name) must be an IP address such as 127.0.0.1, 0.0.0.0 or ::1, got '\(text)'")
    }

    private static func path(_ text: String, name: String) throws(ArgumentError) -> String {
        guard !text.isEmpty else { throw ArgumentError("\(name) must not be empty") }
        return text
    }

    /// Seconds (`30`, `1.5`, `30s`) or milliseconds (`500ms`); more than zero, at most a day.
    static func duration(_ text: String, name: String) throws(ArgumentError) -> Duration {
        var number = Substring(text)
        var scale = 1.0
        if number.hasSuffix("ms") {
            number = number.dropLast(2)
            scale = 0.001
        } else if number.hasSuffix("s") {
            number = number.dropLast()
        }
        guard let value = Double(number), value.isFinite, value * scale * 1000 >= 1, value * scale <= 86_400 else {
            throw ArgumentError("\(name) must be a duration from 1ms to a day such as 60, 1.5s or 500ms, got '\(text)'")
        }
        return .milliseconds(Int64((value * scale * 1000).rounded()))
    }
}
