import Foundation
import Testing
import TestSupport
@testable import ModelPortHDF5

/// A path for a new file in a fresh temporary directory.
func temporaryFile(_ name: String = "test.h5") -> String {
    TestPaths.temporaryDirectory("hdf5").appendingPathComponent(name).path
}

/// Runs `body`, expecting an `HDF5Error` of `kind` whose fields and message
/// name `file` and `objectPath`; returns it for further checks.
@discardableResult
func expectHDF5Error(
    _ kind: HDF5Error.Kind, file: String, objectPath: String,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) -> HDF5Error? {
    let error = #expect(throws: HDF5Error.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return nil }
    #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
    #expect(error.file == file, sourceLocation: sourceLocation)
    #expect(error.objectPath == objectPath, sourceLocation: sourceLocation)
    #expect(error.description.contains(file), sourceLocation: sourceLocation)
    #expect(error.description.contains("'\(objectPath)'"), sourceLocation: sourceLocation)
    #expect(!error.message.isEmpty, sourceLocation: sourceLocation)
    return error
}

/// Writes a small file with a group tree, numeric and string datasets and
/// attributes, for tests that only read.
func makeSampleFile(_ path: String) throws {
    let file = try HDF5File(creatingAt: path)
    let root = file.root
    try root.writeAttribute("title", string: "sample")
    let weights = try root.createGroup("model_weights/dense")
    try weights.writeAttribute("weight_names", strings: ["dense/kernel:0", "dense/bias:0"], variableLength: false)
    _ = try weights.createDataset(
        "dense/kernel:0", shape: [3, 2], values: [Float](stride(from: -1.0, to: 2.0, by: 0.5)))
    _ = try weights.createDataset("dense/bias:0", shape: [2], values: [Float(0.25), -0.5])
    _ = try root.createStringDataset("names", strings: ["a", "bé", ""])
    try file.flush()
}
