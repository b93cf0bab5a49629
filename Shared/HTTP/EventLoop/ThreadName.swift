import CBulkheadShims

/// Names the calling thread as `top -H`, `perf` and `/proc/<pid>/task/*/comm` show it (Linux
/// keeps the first 15 bytes). Foundation's `Thread.name` does not reach the kernel on Linux, so
/// threads of our own call this first thing.
public enum ThreadName {
    public static func setCurrent(_ name: String) {
        _ = bh_set_thread_name(name)
    }
}
