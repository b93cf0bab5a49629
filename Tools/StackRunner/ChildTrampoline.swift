import BulkheadObservability
#if canImport(Glibc)
import Glibc
#endif

/// Gives children a parent-death signal, which `posix_spawn` cannot set: the runner spawns
/// its own executable in a hidden mode that calls `prctl(PR_SET_PDEATHSIG, SIGTERM)` and then
/// `execv`s the service (same pid, same environment). If the runner dies, even by SIGKILL,
/// every service gets SIGTERM and shuts down gracefully: no orphans.
///
/// `bulkhead`'s `main.swift` calls `runIfRequested` first thing.
public enum ChildTrampoline {
    /// The hidden first argument.
    static let marker = "__bulkhead-exec-child"
    /// `PR_SET_PDEATHSIG` from `<sys/prctl.h>` (not exported by Swift's Glibc module).
    static let prSetPdeathsig: Int32 = 1

    /// argv that makes `trampoline` (a `bulkhead` binary) become `executable`.
    static func arguments(trampoline: String, executable: String, parent: pid_t) -> [String] {
        [trampoline, marker, String(parent), executable]
    }

    /// When this process was started as a trampoline, execs the service and never returns
    /// on success; returns an exit code on failure. Returns nil for an ordinary invocation.
    public static func runIfRequested(_ arguments: [String]) -> Int32? {
        guard arguments.count == 4, arguments[1] == marker else { return nil }
        guard let parent = pid_t(arguments[2]) else { return 2 }
        let executable = arguments[3]
        if !setParentDeathSignal(SIGTERM) {
            report("cannot set the parent-death signal for \(executable); starting it anyway")
        }
        // The runner may have died between spawning us and the prctl: then nobody would signal us.
        if getppid() != parent { return 1 }
        lowerPriorityIfAsked(executable)
        applySchedulingPolicyIfAsked(executable)
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        execv(executable, argv)
        let code = errno
        report("cannot execute \(executable): \(String(cString: strerror(code)))")
        return 127
    }

    /// `prctl` is variadic, which Swift cannot call directly; it is called through a
    /// fixed-argument pointer, which works on Linux's x86-64 and AArch64 calling conventions
    /// for integer arguments (they pass them in the same registers either way).
    static func setParentDeathSignal(_ signal: Int32) -> Bool {
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "prctl") else { return false }
        let prctl = unsafeBitCast(symbol, to: Prctl.self)
        return prctl(prSetPdeathsig, UInt(signal), 0, 0, 0) == 0
    }

    /// `BULKHEAD_NICE` (set per process by `ChildEnvironment`): the AI tier runs at a lower
    /// CPU priority, so on one shared machine the core services' requests win the
    /// CPU when both want it. Set before exec, so every thread the service starts inherits it.
    static func lowerPriorityIfAsked(_ executable: String) {
        guard let raw = getenv("BULKHEAD_NICE"), let value = Int32(String(cString: raw)), value > 0 else { return }
        if setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, min(value, 19)) != 0 {
            report("cannot lower the CPU priority of \(executable): \(String(cString: strerror(errno)))")
        }
    }

    /// `SCHED_IDLE` and `SCHED_BATCH` from `<sched.h>` (only exported with `_GNU_SOURCE`).
    static let schedulingPolicies: [String: Int32] = ["idle": 5, "batch": 3]

    /// `BULKHEAD_SCHED_POLICY=idle` (the stack sets it for the AI tier): the process runs
    /// in Linux's idle scheduling class. Nice only shares the CPU out by weight: a woken core
    /// thread still waits for a busy worker thread's time slice to end (up to a few ms with
    /// EEVDF on 2 cores), which is what settings' p99 showed under AI load. A normal thread that
    /// wakes preempts an idle-class one at once; AI work still gets every cycle the core
    /// services leave, which on a machine running both is nearly all of them.
    static func applySchedulingPolicyIfAsked(_ executable: String) {
        guard let raw = getenv("BULKHEAD_SCHED_POLICY") else { return }
        let name = String(cString: raw)
        guard let policy = schedulingPolicies[name] else {
            if !name.isEmpty && name != "normal" { report("BULKHEAD_SCHED_POLICY: expected idle, batch or normal, got \(name); left as is") }
            return
        }
        var param = sched_param(sched_priority: 0)
        if sched_setscheduler(0, policy, &param) != 0 {
            report("cannot set the \(name) scheduling policy for \(executable): \(String(cString: strerror(errno)))")
        }
    }

    private static func report(_ message: String) {
        Logger(service: "bulkhead").error(message)
    }
}
