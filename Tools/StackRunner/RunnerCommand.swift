/// What the command line asks `bulkhead` to do.
public enum RunnerCommand: Sendable, Equatable {
    /// `bulkhead --help`: print usage, exit 0.
    case help
    /// `bulkhead run ...`: start the stack.
    case run(RunnerOptions)
}
