/// Why a snapshot could not be written or loaded. On any of these the caller rebuilds the index
/// from its own records (the snapshot is only a faster start).
public enum VectorIndexSnapshotError: Error, Sendable, Equatable {
    /// The file could not be opened, written or read.
    case io(String)
    /// The file is not a snapshot, another version, or damaged.
    case invalid(String)
    /// A valid snapshot for another dimension or graph degree `m`.
    case incompatible(String)
}
