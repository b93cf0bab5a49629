#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The standard `process_*` metrics, read from `/proc` when the registry is rendered.
///
/// Where `/proc` is unavailable the affected metrics are left out.
struct ProcessMetrics: Sendable {
    /// Metric names this collector writes, reserved in the registry.
    static let names = [
        "process_cpu_seconds_total", "process_max_fds", "process_open_fds",
        "process_resident_memory_bytes", "process_start_time_seconds", "process_virtual_memory_bytes",
    ]

    private let pageSize: Double
    private let ticksPerSecond: Double
    /// Process start, seconds since the epoch; computed once.
    private let startTime: Double?

    init() {
        let page = sysconf(Int32(_SC_PAGESIZE))
        pageSize = page > 0 ? Double(page) : 4096
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        ticksPerSecond = ticks > 0 ? Double(ticks) : 100
        startTime = Self.readStartTime(ticksPerSecond: ticks > 0 ? Double(ticks) : 100)
    }

    /// One rendered family: its name and text.
    struct Family {
        var name: String
        var text: String
    }

    /// Reads current values and returns one family per available metric.
    func collect() -> [Family] {
        var families: [Family] = []
        func add(_ name: String, _ help: String, _ type: String, _ value: Double) {
            var text = ""
            PrometheusText.header(name: name, help: help, type: type, into: &text)
            PrometheusText.sample(name: name, pairs: "", value: value, into: &text)
            families.append(Family(name: name, text: text))
        }

        if let stat = Self.statFields() {
            // Fields counted from 3 (state) after the command name: utime is field 14, stime 15.
            if stat.count > 12, let user = Double(stat[11]), let system = Double(stat[12]) {
                add("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter",
                    (user + system) / ticksPerSecond)
            }
        }
        var limit = rlimit()
        #if canImport(Glibc)
        let limitResult = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        #else
        let limitResult = getrlimit(RLIMIT_NOFILE, &limit)
        #endif
        if limitResult == 0 {
            add("process_max_fds", "Maximum number of open file descriptors.", "gauge", Double(limit.rlim_cur))
        }
        if let open = Self.countOpenFileDescriptors() {
            add("process_open_fds", "Number of open file descriptors.", "gauge", Double(open))
        }
        // statm: size resident shared text lib data dt, in pages.
        let statm = Self.readFile("/proc/self/statm")?.split(separator: " ") ?? []
        if statm.count > 1, let resident = Double(statm[1]) {
            add("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", resident * pageSize)
        }
        if let startTime {
            add("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge",
                startTime)
        }
        if let first = statm.first, let size = Double(first) {
            add("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", size * pageSize)
        }
        return families
    }

    /// The fields of `/proc/self/stat` after the parenthesised command name (which may
    /// itself contain spaces and parentheses), starting with field 3.
    private static func statFields() -> [Substring]? {
        guard let stat = readFile("/proc/self/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
    }

    /// Start time from `starttime` (field 22, clock ticks after boot) plus `btime` from `/proc/stat`.
    private static func readStartTime(ticksPerSecond: Double) -> Double? {
        guard let fields = statFields(), fields.count > 19, let startTicks = Double(fields[19]),
              let procStat = readFile("/proc/stat")
        else { return nil }
        for line in procStat.split(separator: "\n") where line.hasPrefix("btime ") {
            guard let bootTime = Double(line.dropFirst("btime ".count).trimmingPrefixSpaces()) else { return nil }
            return bootTime + startTicks / ticksPerSecond
        }
        return nil
    }

    /// Counts entries of `/proc/self/fd`, excluding the descriptor used to read it.
    private static func countOpenFileDescriptors() -> Int? {
        guard let directory = opendir("/proc/self/fd") else { return nil }
        defer { closedir(directory) }
        var count = 0
        while let entry = readdir(directory) {
            let firstByte = withUnsafeBytes(of: entry.pointee.d_name) { $0.first ?? 0 }
            if firstByte != UInt8(ascii: ".") { count += 1 }
        }
        return max(0, count - 1)
    }

    /// Reads a small file (such as one under `/proc`) as text; `nil` when it cannot be read.
    static func readFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if bytes.count > 1 << 20 { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    fileprivate func trimmingPrefixSpaces() -> Substring {
        var result = self
        while result.first == " " { result = result.dropFirst() }
        while result.last == " " || result.last == "\n" { result = result.dropLast() }
        return result
    }
}
