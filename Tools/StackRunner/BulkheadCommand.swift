import BulkheadObservability
#if canImport(Foundation)
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The whole `bulkhead` executable: parse arguments, print usage or run the stack.
public enum BulkheadCommand {
    /// Returns the process exit status: 0 after a requested stop or `--help`, 1 when the stack
    /// cannot start, 2 for a bad command line.
    public static func main(
        _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        output: @escaping @Sendable (String) -> Void = StackRunner.writeToStandardOutput,
        errorOutput: @escaping @Sendable (String) -> Void = writeStandardError
    ) async -> Int32 {
        let command: RunnerCommand
        do {
            command = try RunnerArgumentParser.parse(Array(arguments.dropFirst()), environment: environment)
        } catch {
            errorOutput("bulkhead: \(error.message)\nRun 'bulkhead --help' for usage.\n")
            return 2
        }
        switch command {
        case .help:
            output(RunnerUsage.text + "\n")
            return 0
        case .run(let options):
            signal(SIGPIPE, SIG_IGN)
            let logger = Logger(service: "bulkhead", minimumLevel: LogLevel(parsing: environment["LOG_LEVEL"] ?? "") ?? .info)
            let stop = StopRequests()
            stop.listenForSignals(logger: logger)
            var runner = StackRunner(
                options: options, environment: environment, logger: logger,
                trampoline: ExecutableLocator.currentExecutable(), stopRequests: stop)
            runner.output = output
            return await runner.run()
        }
    }

    /// Writes `text` to fd 2 in one call.
    public static let writeStandardError: @Sendable (String) -> Void = { text in
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}
