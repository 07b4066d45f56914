import Foundation
import Testing
import ModelPortRuntime
@testable import ModelPortHDF5

/// Damaged files must give typed errors (or, where the damage misses
/// anything read, readable data), never a crash or hang.
///
/// Limits of what a wrapper can promise: libhdf5 1.10.8 itself crashes or
/// reads out of bounds on some damage to metadata that carries no checksum —
/// the global heap behind variable-length strings (H5HG_read copies without
/// bounds checks), the version-1 B-tree indexing chunked (e.g. gzip)
/// datasets, and the version-1 object headers h5py writes by default. The
/// file here is written by this module (1.8 format: checksummed superblock
/// and object headers) with only fixed-length strings and contiguous
/// datasets, so every mutation must end in a typed error or readable data.
@Suite struct CorruptionTests {
    /// Reads everything reachable, returning how many reads threw.
    private func traverse(_ group: HDF5Group, depth: Int = 0) -> Int {
        var failures = 0
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch is HDF5Error { failures += 1 } catch { Issue.record("untyped \(error)") }
        }
        attempt {
            for name in try group.attributeNames() {
                if try group.attributeType(name) == .string {
                    _ = try group.readStringArrayAttribute(name, limit: 1 << 20)
                } else {
                    _ = try group.readNumericAttribute(name, as: Double.self, limit: 1 << 20)
                }
            }
        }
        guard depth < 8 else { return failures }
        attempt {
            for name in try group.childNames() {
                if group.isGroup(name) {
                    failures += traverse(try group.group(name), depth: depth + 1)
                } else {
                    let dataset = try group.dataset(name)
                    _ = try dataset.shape()
                    if try dataset.elementType() == .string {
                        _ = try dataset.readStrings(limit: 1 << 20)
                    } else {
                        _ = try dataset.read(as: Float.self, limit: 1 << 20)
                    }
                }
            }
        }
        return failures
    }

    @Test func mutatedFilesFailCleanly() throws {
        let directory = URL(fileURLWithPath: temporaryFile()).deletingLastPathComponent()
        let original = directory.appendingPathComponent("original.h5").path
        do {
            let file = try HDF5File(creatingAt: original)
            try file.root.writeAttribute("model_config", string: String(repeating: "{\"k\": 1}", count: 50),
                                         variableLength: false)
            try file.root.writeAttribute("layer_names", strings: ["a", "bb", "ccc"], variableLength: false)
            let group = try file.root.createGroup("model_weights/dense")
            try group.writeAttribute("weight_names", strings: ["dense/kernel:0", "dense/bias:0"], variableLength: false)
            _ = try group.createDataset("dense/kernel:0", shape: [20, 10], values: (0..<200).map { Float($0) })
            _ = try group.createDataset("dense/bias:0", shape: [10], values: [Float](repeating: 0.5, count: 10))
            _ = try file.root.createDataset("step", shape: [], values: [Int64(12)])
        }
        let pristine = try [UInt8](Data(contentsOf: URL(fileURLWithPath: original)))
        var rng = SplitMix64(seed: 2024)
        var opened = 0
        for round in 0..<300 {
            var bytes = pristine
            // Mostly metadata: the first 4 KiB hold the superblock and headers.
            for _ in 0..<(1 + Int(rng.next() % 4)) {
                let span = rng.next() % 4 == 0 ? bytes.count : min(bytes.count, 4096)
                let position = Int(rng.next() % UInt64(span))
                bytes[position] = UInt8(truncatingIfNeeded: rng.next())
            }
            let path = directory.appendingPathComponent("mutant\(round).h5").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let file = try HDF5File(openingAt: path)
                opened += 1
                _ = traverse(file.root)
            } catch let error as HDF5Error {
                #expect([.notHDF5, .corrupt, .io].contains(error.kind), "\(error)")
                #expect(error.file == path)
            }
            try? FileManager.default.removeItem(atPath: path)
        }
        #expect(opened > 0)
    }
}
