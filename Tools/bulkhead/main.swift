import StackRunner
#if canImport(Glibc)
import Glibc
#endif

// `bulkhead` starts its own children through itself (see ChildTrampoline): in that mode it
// becomes the service and never gets further.
if let status = ChildTrampoline.runIfRequested(CommandLine.arguments) { exit(status) }

exit(await BulkheadCommand.main(CommandLine.arguments))
