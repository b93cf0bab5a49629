#if canImport(Glibc)
import Glibc
#endif

/// Finds the running executable and the service binaries next to it.
public enum ExecutableLocator {
    /// The absolute path of the running executable (`/proc/self/exe`), or nil.
    public static func currentExecutable() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The folder of the running executable.
    public static func currentDirectory() -> String? {
        currentExecutable().map(directory(of:))
    }

    /// `dirname`: everything before the last `/` ("/" for a top-level file, "." for a bare name).
    public static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The services whose executable is missing from `directory` or not executable.
    public static func missing(_ services: [StackService], in directory: String) -> [StackService] {
        services.filter { access(directory + "/" + $0.executable, X_OK) != 0 }
    }

    /// `path` made absolute against the working directory (no symlink resolution).
    public static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return path }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var relative = Substring(path)
        while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
        if relative == "." { return cwd }
        return (cwd == "/" ? "" : cwd) + "/" + relative
    }
}
