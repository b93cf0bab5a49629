import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where process-level tests find the built executables, and free loopback ports for them.
public enum TestBinaries {
    /// `BULKHEAD_BIN_DIR` (scripts/test sets it), else the folder of the running test binary,
    /// where `swift build` puts the products too.
    public static var directory: String {
        if let dir = ProcessInfo.processInfo.environment["BULKHEAD_BIN_DIR"], !dir.isEmpty { return dir }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? ""
        return (exe as NSString).deletingLastPathComponent
    }

    /// The path of executable `name`, or nil when it is not built (or not executable).
    public static func path(_ name: String) -> String? {
        let path = directory + "/" + name
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// A loopback port nothing listens on right now (bound to port 0, read back, released).
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
