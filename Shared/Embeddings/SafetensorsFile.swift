import Foundation

/// A parsed `.safetensors` file: an 8-byte little-endian header length, a JSON header mapping
/// tensor names to `{dtype, shape, data_offsets}`, then the raw tensor bytes.
///
/// ```swift
/// let file = try SafetensorsFile(contentsOf: "/models/minilm/model.safetensors")
/// let w = try file.floats("embeddings.word_embeddings.weight", shape: [30522, 384])
/// ```
public struct SafetensorsFile: Sendable {
    /// One tensor's header entry.
    public struct TensorInfo: Sendable, Equatable {
        public var dtype: String
        public var shape: [Int]
        /// Byte range relative to the start of the data section.
        public var range: Range<Int>
    }

    /// Header entries by tensor name (`__metadata__` excluded).
    public let tensors: [String: TensorInfo]
    /// `__metadata__` string pairs, if any.
    public let metadata: [String: String]
    private let source: TensorBytes
    private let dataStart: Int

    /// Largest JSON header we accept; real headers are a few KiB, this guards against garbage lengths.
    static let maxHeaderBytes = 100 << 20

    /// Opens a file and parses its header. Tensor data is read from disk one tensor at a time
    /// when asked for (`pread`), so loading never holds the whole file in memory.
    public init(contentsOf path: String) throws(EmbeddingError) {
        guard FileManager.default.fileExists(atPath: path) else { throw .missingFile(path) }
        let file = try TensorBytes(path: path)
        var lengthBytes = [UInt8](repeating: 0, count: 8)
        guard file.count >= 8 else { throw .invalidSafetensors("file is \(file.count) bytes, shorter than the 8-byte header length") }
        try file.read(at: 0, into: &lengthBytes)
        let headerLength = try Self.headerLength(lengthBytes, fileSize: file.count)
        var header = [UInt8](repeating: 0, count: headerLength)
        try file.read(at: 8, into: &header)
        (tensors, metadata) = try Self.parseHeader(header, dataLength: file.count - 8 - headerLength)
        source = file
        dataStart = 8 + headerLength
    }

    /// Parses an in-memory file.
    public init(bytes: [UInt8]) throws(EmbeddingError) {
        guard bytes.count >= 8 else { throw .invalidSafetensors("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        let headerLength = try Self.headerLength(Array(bytes[0..<8]), fileSize: bytes.count)
        let headerEnd = 8 + headerLength
        (tensors, metadata) = try Self.parseHeader(Array(bytes[8..<headerEnd]), dataLength: bytes.count - headerEnd)
        source = TensorBytes(bytes: bytes)
        dataStart = headerEnd
    }

    private static func headerLength(_ b: [UInt8], fileSize: Int) throws(EmbeddingError) -> Int {
        var headerLength: UInt64 = 0
        for i in 0..<8 { headerLength |= UInt64(b[i]) << (8 * UInt64(i)) }
        guard headerLength <= UInt64(Self.maxHeaderBytes), Int(headerLength) <= fileSize - 8 else {
            throw .invalidSafetensors("header length \(headerLength) exceeds the file size \(fileSize)")
        }
        return Int(headerLength)
    }

    private static func parseHeader(_ header: [UInt8], dataLength: Int) throws(EmbeddingError) -> ([String: TensorInfo], [String: String]) {
        let json: Any
        do { json = try JSONSerialization.jsonObject(with: Data(header)) } catch {
            throw .invalidSafetensors("header is not valid JSON")
        }
        guard let object = json as? [String: Any] else { throw .invalidSafetensors("header is not a JSON object") }
        var tensors: [String: TensorInfo] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                for (k, v) in (value as? [String: Any]) ?? [:] { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = (entry["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                let offsets = (entry["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                offsets.count == 2
            else { throw .invalidSafetensors("tensor \(name): entry needs dtype, shape and two data_offsets") }
            guard shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataLength else {
                throw .invalidSafetensors("tensor \(name): data_offsets \(offsets) outside the \(dataLength)-byte data section")
            }
            if let size = Self.elementSize(dtype) {
                let count = shape.reduce(1, *)
                guard count * size == offsets[1] - offsets[0] else {
                    throw .invalidSafetensors("tensor \(name): \(count) \(dtype) elements need \(count * size) bytes, offsets give \(offsets[1] - offsets[0])")
                }
            }
            tensors[name] = TensorInfo(dtype: dtype, shape: shape, range: offsets[0]..<offsets[1])
        }
        return (tensors, metadata)
    }

    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F64", "I64", "U64": return 8
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "I8", "U8", "BOOL": return 1
        default: return nil
        }
    }

    /// A tensor converted to Float32 (from F32, F16 or BF16), checking its shape when `shape` is given.
    public func floats(_ name: String, shape expected: [Int]? = nil) throws(EmbeddingError) -> [Float] {
        guard let info = tensors[name] else { throw .missingTensor(name) }
        return try floats(name, shape: expected, rows: 0..<(info.shape.first ?? 1))
    }

    /// Rows `rows` (along the first dimension) of a tensor, converted to Float32, so large
    /// tensors can be read and converted in chunks.
    public func floats(_ name: String, shape expected: [Int]? = nil, rows: Range<Int>) throws(EmbeddingError) -> [Float] {
        guard let info = tensors[name] else { throw .missingTensor(name) }
        if let expected, expected != info.shape { throw .shapeMismatch(tensor: name, expected: expected, actual: info.shape) }
        guard rows.lowerBound >= 0, rows.upperBound <= (info.shape.first ?? 1) else {
            throw .invalidSafetensors("tensor \(name): rows \(rows) outside shape \(info.shape)")
        }
        let rowElements = info.shape.dropFirst().reduce(1, *)
        let count = rows.count * rowElements
        guard let size = Self.elementSize(info.dtype), ["F32", "F16", "BF16"].contains(info.dtype) else {
            throw .unsupportedDType(tensor: name, dtype: info.dtype)
        }
        let base = dataStart + info.range.lowerBound + rows.lowerBound * rowElements * size
        if info.dtype == "F32" {
            var out = [Float](repeating: 0, count: count)
            try source.read(at: base, into: &out)
            #if _endian(big)
            for i in 0..<count { out[i] = Float(bitPattern: UInt32(littleEndian: out[i].bitPattern)) }
            #endif
            return out
        }
        var raw = [UInt8](repeating: 0, count: count * 2)
        try source.read(at: base, into: &raw)
        let isBF16 = info.dtype == "BF16"
        var out = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let bits = UInt16(raw[2 * i]) | UInt16(raw[2 * i + 1]) << 8
            out[i] = isBF16 ? Float(bitPattern: UInt32(bits) << 16) : Self.halfToFloat(bits)
        }
        return out
    }

    /// IEEE 754 binary16 → binary32 without relying on `Float16` (unavailable on some platforms).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            if mantissa == 0 { return Float(bitPattern: sign) }
            let value = Float(mantissa) * Float(sign: .plus, exponent: -24, significand: 1)
            return sign == 0 ? value : -value
        }
        if exponent == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13)) }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
