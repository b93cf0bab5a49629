import BulkheadEmbeddings
import Foundation
import Testing

/// Builds a safetensors file in memory from a header object and data bytes.
private func file(header: String, data: [UInt8]) -> [UInt8] {
    let h = Array(header.utf8)
    var out: [UInt8] = []
    var n = UInt64(h.count)
    for _ in 0..<8 { out.append(UInt8(n & 0xFF)); n >>= 8 }
    return out + h + data
}

private func floatBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { v -> [UInt8] in let b = v.bitPattern; return (0..<4).map { UInt8((b >> (8 * $0)) & 0xFF) } }
}

@Suite struct SafetensorsFileTests {
    @Test func parsesF32F16AndBF16Tensors() throws {
        let f32 = floatBytes([1.5, -2, 0.25, 8])
        // F16: 1.0 = 0x3C00, -0.5 = 0xB800; BF16: 3.0 = 0x4040.
        let f16: [UInt8] = [0x00, 0x3C, 0x00, 0xB8]
        let bf16: [UInt8] = [0x40, 0x40]
        let header = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]},"i":{"dtype":"I64","shape":[1],"data_offsets":[22,30]}}"#
        let st = try SafetensorsFile(bytes: file(header: header, data: f32 + f16 + bf16 + [UInt8](repeating: 0, count: 8)))
        #expect(st.metadata["format"] == "pt")
        #expect(try st.floats("a", shape: [2, 2]) == [1.5, -2, 0.25, 8])
        #expect(try st.floats("h") == [1.0, -0.5])
        #expect(try st.floats("b") == [3.0])
        #expect(throws: EmbeddingError.unsupportedDType(tensor: "i", dtype: "I64")) { try st.floats("i") }
        #expect(throws: EmbeddingError.missingTensor("nope")) { try st.floats("nope") }
        #expect(throws: EmbeddingError.shapeMismatch(tensor: "a", expected: [4], actual: [2, 2])) { try st.floats("a", shape: [4]) }
    }

    @Test func rejectsMalformedFiles() {
        func fails(_ bytes: [UInt8], mentioning word: String) {
            do {
                _ = try SafetensorsFile(bytes: bytes)
                Issue.record("expected an error mentioning \(word)")
            } catch {
                #expect(error.description.contains(word), "\(error)")
            }
        }
        fails([1, 2, 3], mentioning: "shorter")
        fails([255, 255, 0, 0, 0, 0, 0, 0, 123], mentioning: "header length")
        fails(file(header: "{not json", data: []), mentioning: "JSON")
        fails(file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0]), mentioning: "outside")
        fails(file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: [UInt8](repeating: 0, count: 8)), mentioning: "need 12 bytes")
        fails(file(header: #"{"a":{"dtype":"F32","shape":[2]}}"#, data: []), mentioning: "data_offsets")
    }

    @Test func missingModelFilesGiveClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emb-missing-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: EmbeddingError.missingFile(dir + "/model.safetensors")) { try EmbeddingModel.load(directory: dir) }
        #expect(throws: EmbeddingError.modelDirectoryNotFound("\(dir)/absent does not exist")) { try EmbeddingModel.load(directory: dir + "/absent") }
        #expect(try ModelDirectory.resolve(environment: [ModelDirectory.environmentVariable: dir]) == dir)
    }

    @Test func shapeMismatchAgainstConfigIsReported() throws {
        // A real config.json and vocab.txt with a safetensors file whose word embeddings have the wrong width.
        let source = try TestPaths.modelDirectory()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("emb-shape-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: source + "/config.json", toPath: dir + "/config.json")
        try FileManager.default.copyItem(atPath: source + "/vocab.txt", toPath: dir + "/vocab.txt")
        let bytes = file(header: #"{"embeddings.word_embeddings.weight":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}"#, data: floatBytes([0, 0]))
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        #expect(throws: EmbeddingError.shapeMismatch(tensor: "embeddings.word_embeddings.weight", expected: [30522, 384], actual: [1, 2])) {
            try EmbeddingModel.load(directory: dir)
        }
    }
}
