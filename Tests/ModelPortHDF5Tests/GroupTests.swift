import Foundation
import Testing
@testable import ModelPortHDF5

@Suite struct GroupTests {
    @Test func navigation() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        let file = try HDF5File(openingAt: path)
        let root = file.root
        #expect(root.path == "/")
        #expect(root.name == "/")
        #expect(try root.childNames() == ["model_weights", "names"])
        let weights = try root.group("model_weights")
        #expect(weights.path == "/model_weights")
        #expect(try weights.childNames() == ["dense"])
        let dense = try weights.group("dense/dense")
        #expect(dense.path == "/model_weights/dense/dense")
        #expect(try dense.childNames() == ["bias:0", "kernel:0"])

        let kernel = try dense.dataset("kernel:0")
        #expect(kernel.path == "/model_weights/dense/dense/kernel:0")
        #expect(kernel.name == "kernel:0")
        #expect(try kernel.shape() == [3, 2])
        // Absolute paths from any group start at the root.
        #expect(try dense.dataset("/names").path == "/names")
        // Redundant slashes and "." are normalised.
        #expect(try root.dataset("model_weights//dense/./dense/bias:0/").path
            == "/model_weights/dense/dense/bias:0")
    }

    @Test func existenceChecksNeverThrow() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        let root = try HDF5File(openingAt: path).root
        #expect(root.exists(""))
        #expect(root.exists("/"))
        #expect(root.isGroup(""))
        #expect(root.exists("model_weights/dense/dense/kernel:0"))
        #expect(root.isDataset("model_weights/dense/dense/kernel:0"))
        #expect(!root.isGroup("model_weights/dense/dense/kernel:0"))
        #expect(root.isGroup("model_weights/dense"))
        #expect(!root.isDataset("model_weights/dense"))
        #expect(!root.exists("missing"))
        #expect(!root.exists("missing/deeper/still"))
        // A path through a dataset: HDF5 itself would fail here.
        #expect(!root.exists("names/child"))
        #expect(!root.isGroup("names/child"))
        #expect(!root.isDataset("model_weights/dense/dense/kernel:0/x"))
        let dense = try root.group("model_weights/dense")
        #expect(dense.exists("dense/bias:0"))
        #expect(!dense.exists("bias:0"))
        #expect(dense.exists("/names"))
    }

    @Test func createGroupMakesIntermediates() throws {
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        let deep = try file.root.createGroup("a/b/c")
        #expect(deep.path == "/a/b/c")
        #expect(file.root.isGroup("a"))
        #expect(file.root.isGroup("a/b"))
        let nested = try deep.createGroup("d")
        #expect(nested.path == "/a/b/c/d")
        #expect(try file.root.group("a").childNames() == ["b"])

        expectHDF5Error(.invalidArgument, file: path, objectPath: "/a/b") { _ = try file.root.createGroup("a/b") }
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/") { _ = try file.root.createGroup("/") }
        #expect(try file.root.requireGroup("a/b").path == "/a/b")
        #expect(try file.root.requireGroup("x/y").path == "/x/y")
        _ = try file.root.createDataset("a/data", shape: [1], values: [Int8(1)])
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/a/data") {
            _ = try file.root.createDataset("a/data", shape: [1], values: [Int8(2)])
        }
        expectHDF5Error(.wrongType, file: path, objectPath: "/a/data") { _ = try file.root.requireGroup("a/data") }
        // A dataset in the way of intermediate groups.
        let error = #expect(throws: HDF5Error.self) { _ = try file.root.createGroup("a/data/sub") }
        #expect(error?.objectPath == "/a/data/sub")
    }

    @Test func childNamesAreSortedByName() throws {
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        for name in ["dense_1", "Conv", "dense", "a:0", "dense_10", "batch_normalization"] {
            _ = try file.root.createGroup(name)
        }
        _ = try file.root.createDataset("zeta", shape: [1], values: [Float(1)])
        #expect(try file.root.childNames()
            == ["Conv", "a:0", "batch_normalization", "dense", "dense_1", "dense_10", "zeta"])
    }

    @Test func shapeAndCountValidationOnCreate() throws {
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/bad") {
            _ = try file.root.createDataset("bad", shape: [2, 3], values: [Float](repeating: 0, count: 5))
        }
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/bad") {
            _ = try file.root.createDataset("bad", shape: [], values: [Float(1), 2])
        }
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/bad") {
            _ = try file.root.createDataset("bad", shape: [-1], values: [Float]())
        }
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/bad") {
            _ = try file.root.createDataset("bad", shape: [2], values: [Float(1), 2], gzipLevel: 10)
        }
        #expect(!file.root.exists("bad"))
    }

    @Test func readOnlyFileRejectsWrites() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        let file = try HDF5File(openingAt: path)
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/new") { _ = try file.root.createGroup("new") }
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/") {
            try file.root.writeAttribute("x", string: "y")
        }
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/") { try file.root.deleteAttribute("title") }
        #expect(try file.root.readStringAttribute("title") == "sample")
    }

    @Test func createWithoutOverwriteRefusesExistingFile() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/") {
            _ = try HDF5File(creatingAt: path, overwrite: false)
        }
        #expect(HDF5File.isHDF5(path))
        let fresh = temporaryFile("fresh.h5")
        _ = try HDF5File(creatingAt: fresh, overwrite: false)
        #expect(HDF5File.isHDF5(fresh))
    }

    @Test func objectsKeepTheFileOpen() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        let dataset = try HDF5File(openingAt: path).root.dataset("model_weights/dense/dense/bias:0")
        // The HDF5File value is gone; the dataset still reads.
        #expect(try dataset.read(as: Float.self) == [0.25, -0.5])
        #expect(try dataset.file.root.readStringAttribute("title") == "sample")
    }
}
