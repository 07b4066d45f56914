import Foundation
import ModelPortData
import Testing
import TestSupport

struct IDXFileTests {
    var mnist: URL { TestPaths.mnistDirectory }

    @Test func readsTheRealMNISTFiles() throws {
        let images = try IDXFile(contentsOf: mnist.appendingPathComponent("t10k-images-idx3-ubyte.gz").path)
        #expect(images.dimensions == [10_000, 28, 28])
        #expect(images.bytes.count == 10_000 * 28 * 28)
        let labels = try IDXFile(contentsOf: mnist.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path)
        #expect(labels.dimensions == [10_000])
        let values = try MNIST.labels(labels)
        #expect(Set(values) == Set(0...9))
        let tensor = try MNIST.images(images, limit: 3)
        #expect(tensor.shape == [3, 28, 28, 1])
        #expect(tensor.scalars.allSatisfy { $0 >= 0 && $0 <= 1 })
        #expect(tensor.scalars.contains(1))
    }

    /// The same data read raw and gzipped.
    @Test func rawAndGzipAgree() throws {
        let gz = mnist.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path
        let a = try IDXFile(contentsOf: gz)
        let raw = try rawCopy(a)
        let b = try IDXFile(contentsOf: raw)
        #expect(a.bytes == b.bytes && a.dimensions == b.dimensions)
    }

    func rawCopy(_ idx: IDXFile) throws -> String {
        var data = Data([0, 0, 8, UInt8(idx.dimensions.count)])
        for d in idx.dimensions { data.append(contentsOf: [UInt8(d >> 24 & 0xff), UInt8(d >> 16 & 0xff), UInt8(d >> 8 & 0xff), UInt8(d & 0xff)]) }
        data.append(contentsOf: idx.bytes)
        let path = TestPaths.temporaryDirectory("idx").appendingPathComponent("raw-idx").path
        try data.write(to: URL(fileURLWithPath: path))
        return path
    }

    func write(_ bytes: [UInt8], _ name: String = "bad") throws -> String {
        let path = TestPaths.temporaryDirectory("idx").appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func expectError(_ path: String, containing words: String) {
        do {
            _ = try IDXFile(contentsOf: path)
            Issue.record("\(path) should not load")
        } catch let e as DataError {
            #expect(e.description.contains(path))
            #expect(e.description.contains(words), "\(e)")
        } catch {
            Issue.record("unexpected error type \(error)")
        }
    }

    @Test func wrongMagic() throws {
        expectError(try write([0x12, 0x34, 0x08, 0x01, 0, 0, 0, 1, 7]), containing: "not an IDX file")
        expectError(try write([0, 0, 0x0D, 0x01, 0, 0, 0, 1, 7]), containing: "not supported")
    }

    @Test func truncatedData() throws {
        // Header says 2 x 3 x 3 = 18 bytes, only 5 follow.
        expectError(try write([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3, 1, 2, 3, 4, 5]), containing: "truncated")
        expectError(try write([0, 0, 8, 3, 0, 0]), containing: "header")
    }

    @Test func headerDimensionsExceedingAnythingReasonable() throws {
        // 4 billion x 4 billion images: refused from the header, nothing allocated.
        expectError(try write([0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1]), containing: "more than")
    }

    @Test func truncatedGzip() throws {
        let gz = try Data(contentsOf: mnist.appendingPathComponent("t10k-labels-idx1-ubyte.gz"))
        expectError(try write([UInt8](gz.prefix(gz.count / 2)), "half.gz"), containing: "truncated")
        var corrupt = [UInt8](gz)
        for i in 20..<60 { corrupt[i] ^= 0x5a }
        expectError(try write(corrupt, "corrupt.gz"), containing: "corrupt")
    }

    @Test func trailingBytesAreReported() throws {
        expectError(try write([0, 0, 8, 1, 0, 0, 0, 2, 7, 7, 7]), containing: "after")
    }
}

/// Images and labels that do not belong together.
struct IDXPairTests {
    @Test func labelCountMustMatchTheImages() throws {
        let dir = TestPaths.temporaryDirectory("pair")
        let shared = TestPaths.mnistDirectory.path
        for name in ["t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] {
            try FileManager.default.createSymbolicLink(atPath: dir.path + "/" + name, withDestinationPath: shared + "/" + name)
        }
        // 5 labels for 10,000 images.
        try Data([0, 0, 8, 1, 0, 0, 0, 5, 1, 2, 3, 4, 5]).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
        #expect { try DatasetDescriptor.mnist.load(.test, from: dir.path) } throws: { error in
            "\(error)".contains("t10k-labels-idx1-ubyte") && "\(error)".contains("5 labels")
        }
    }

    @Test func labelsBeyondTheClassesAreRefused() throws {
        let dir = TestPaths.temporaryDirectory("pair")
        try Data([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28] + [UInt8](repeating: 0, count: 784)).write(to: dir.appendingPathComponent("t10k-images-idx3-ubyte"))
        try Data([0, 0, 8, 1, 0, 0, 0, 1, 12]).write(to: dir.appendingPathComponent("t10k-labels-idx1-ubyte"))
        #expect { try DatasetDescriptor.mnist.load(.test, from: dir.path) } throws: { error in
            "\(error)".contains("label 12")
        }
    }
}
