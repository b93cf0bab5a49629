/// Everything that can go wrong loading or running a local embedding model.
///
/// Each case carries enough context (file, tensor name, shapes) to fix the problem without a debugger.
public enum EmbeddingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model directory could not be found (neither the environment variable nor the pip package).
    case modelDirectoryNotFound(String)
    /// A required file is missing from the model directory.
    case missingFile(String)
    /// A file exists but could not be read.
    case unreadableFile(path: String, reason: String)
    /// The safetensors file is malformed (header length, JSON, offsets).
    case invalidSafetensors(String)
    /// A tensor the model needs is absent from the safetensors file.
    case missingTensor(String)
    /// A tensor has an unexpected shape or dtype.
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    /// A tensor has a dtype we cannot convert to Float32.
    case unsupportedDType(tensor: String, dtype: String)
    /// config.json is malformed or describes an unsupported architecture.
    case invalidConfig(String)
    /// vocab.txt is malformed (missing special tokens).
    case invalidVocabulary(String)
    /// The input violates a limit (too many texts, text too long).
    case invalidInput(String)

    public var description: String {
        switch self {
        case .modelDirectoryNotFound(let m): return "embedding model directory not found: \(m)"
        case .missingFile(let p): return "embedding model file missing: \(p)"
        case .unreadableFile(let p, let r): return "cannot read \(p): \(r)"
        case .invalidSafetensors(let m): return "invalid safetensors file: \(m)"
        case .missingTensor(let n): return "tensor \(n) missing from model.safetensors"
        case .shapeMismatch(let n, let e, let a): return "tensor \(n) has shape \(a), expected \(e)"
        case .unsupportedDType(let n, let d): return "tensor \(n) has unsupported dtype \(d)"
        case .invalidConfig(let m): return "invalid config.json: \(m)"
        case .invalidVocabulary(let m): return "invalid vocab.txt: \(m)"
        case .invalidInput(let m): return m
        }
    }
}
