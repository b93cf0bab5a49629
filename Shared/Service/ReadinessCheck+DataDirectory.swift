#if canImport(Glibc)
import Glibc
#endif

extension ReadinessCheck {
    /// Ready when the data directory exists (it is created if missing) and accepts a file.
    public static func dataDirectoryWritable(_ path: String) -> ReadinessCheck {
        ReadinessCheck(name: "data_dir") {
            if !DataDirectory.create(path) { return "cannot create \(path)" }
            let probe = path + "/.ready-probe"
            let fd = open(probe, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0o600)
            if fd < 0 { return "\(path) is not writable" }
            close(fd)
            unlink(probe)
            return nil
        }
    }
}

/// Data directory helpers.
public enum DataDirectory {
    /// `mkdir -p` with 0700 for new directories; true when the path is a directory afterwards.
    @discardableResult
    public static func create(_ path: String) -> Bool {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") where !part.isEmpty {
            current += "/" + part
            if mkdir(current, 0o700) != 0 && errno != EEXIST { return false }
        }
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }
}
