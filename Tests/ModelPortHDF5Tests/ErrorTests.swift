import Foundation
import Testing
import ModelPortRuntime
@testable import ModelPortHDF5

@Suite struct ErrorTests {
    @Test func missingDataset() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        let root = try HDF5File(openingAt: path).root
        let error = expectHDF5Error(.notFound, file: path, objectPath: "/model_weights/dense/nope:0") {
            _ = try root.dataset("model_weights/dense/nope:0")
        }
        #expect(error?.operation == "open dataset")
        expectHDF5Error(.notFound, file: path, objectPath: "/a/b/c") { _ = try root.dataset("a/b/c") }
        let group = try root.group("model_weights")
        expectHDF5Error(.notFound, file: path, objectPath: "/model_weights/kernel") { _ = try group.dataset("kernel") }
    }

    @Test func missingGroup() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        let root = try HDF5File(openingAt: path).root
        let error = expectHDF5Error(.notFound, file: path, objectPath: "/model_weights/conv2d") {
            _ = try root.group("model_weights/conv2d")
        }
        #expect(error?.description.contains("conv2d") == true)
        // Through a dataset.
        expectHDF5Error(.notFound, file: path, objectPath: "/names/x") { _ = try root.group("names/x") }
    }

    @Test func wrongObjectKinds() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        let root = try HDF5File(openingAt: path).root
        expectHDF5Error(.wrongType, file: path, objectPath: "/model_weights/dense") {
            _ = try root.dataset("model_weights/dense")
        }
        expectHDF5Error(.wrongType, file: path, objectPath: "/names") { _ = try root.group("names") }
        expectHDF5Error(.wrongType, file: path, objectPath: "/") { _ = try root.dataset("/") }
        // A string dataset read as numbers, a numeric one read as strings.
        expectHDF5Error(.wrongType, file: path, objectPath: "/names") {
            _ = try root.dataset("names").read(as: Float.self)
        }
        expectHDF5Error(.wrongType, file: path, objectPath: "/model_weights/dense/dense/bias:0") {
            _ = try root.dataset("model_weights/dense/dense/bias:0").readStrings()
        }
    }

    @Test func attributeErrors() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        try HDF5File(openingAt: path, mode: .readWrite).root.writeAttribute("n", values: [Int32(1), 2])
        let root = try HDF5File(openingAt: path).root
        let error = expectHDF5Error(.wrongType, file: path, objectPath: "/") {
            _ = try root.readNumericAttribute("title", as: Double.self)
        }
        #expect(error?.operation == "read attribute 'title'")
        expectHDF5Error(.notFound, file: path, objectPath: "/") { _ = try root.readStringAttribute("missing") }
        expectHDF5Error(.notFound, file: path, objectPath: "/") { _ = try root.attributeType("missing") }
        expectHDF5Error(.notFound, file: path, objectPath: "/") { _ = try root.attributeShape("missing") }
        let dense = try root.group("model_weights/dense")
        expectHDF5Error(.wrongType, file: path, objectPath: "/") { _ = try root.readStringArrayAttribute("n") }
        expectHDF5Error(.wrongType, file: path, objectPath: "/model_weights/dense") {
            _ = try dense.readNumericAttribute("weight_names", as: Int32.self)
        }
        // HDF5 will not open a file read-write while this process has it open read-only.
        let busy = expectHDF5Error(.io, file: path, objectPath: "/") {
            _ = try HDF5File(openingAt: path, mode: .readWrite)
        }
        #expect(busy?.message.contains("already open") == true)
    }

    @Test func nonexistentFile() {
        let path = temporaryFile("does-not-exist.h5")
        let error = expectHDF5Error(.notFound, file: path, objectPath: "/") { _ = try HDF5File(openingAt: path) }
        #expect(error?.operation == "open file")
        expectHDF5Error(.notFound, file: path + "/x.h5", objectPath: "/") {
            _ = try HDF5File(openingAt: path + "/x.h5")
        }
        #expect(!HDF5File.isHDF5(path))
    }

    @Test func randomBytesFile() throws {
        let path = temporaryFile("random.h5")
        var rng = SplitMix64(seed: 42)
        let bytes = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        expectHDF5Error(.notHDF5, file: path, objectPath: "/") { _ = try HDF5File(openingAt: path) }
        #expect(!HDF5File.isHDF5(path))
    }

    @Test func emptyFile() throws {
        let path = temporaryFile("empty.h5")
        #expect(FileManager.default.createFile(atPath: path, contents: Data()))
        expectHDF5Error(.notHDF5, file: path, objectPath: "/") { _ = try HDF5File(openingAt: path) }
        #expect(!HDF5File.isHDF5(path))
    }

    @Test func directoryPath() throws {
        let path = scratchDirectoryPath()
        expectHDF5Error(.notHDF5, file: path, objectPath: "/") { _ = try HDF5File(openingAt: path) }
        #expect(!HDF5File.isHDF5(path))
        expectHDF5Error(.io, file: path, objectPath: "/") { _ = try HDF5File(creatingAt: path) }
    }

    @Test func createInMissingDirectory() {
        let path = temporaryFile("no/such/dir/x.h5")
        expectHDF5Error(.io, file: path, objectPath: "/") { _ = try HDF5File(creatingAt: path) }
    }

    @Test func truncatedFile() throws {
        let path = temporaryFile("whole.h5")
        do {
            let file = try HDF5File(creatingAt: path)
            try file.root.writeAttribute("note", string: "before the data")
            _ = try file.root.createDataset(
                "big", shape: [512, 512], values: (0..<(512 * 512)).map { Float($0) })
            try file.root.writeAttribute("after", string: "written after the data")
        }
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(whole.count > 1_000_000)
        let truncated = temporaryFile("truncated.h5")
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))

        // The superblock survives, so it looks like HDF5, but HDF5 compares the
        // recorded end of file with the real one and refuses to open it.
        #expect(HDF5File.isHDF5(truncated))
        let error = expectHDF5Error(.corrupt, file: truncated, objectPath: "/") {
            let file = try HDF5File(openingAt: truncated)
            _ = try file.root.dataset("big").read(as: Float.self)
        }
        #expect(error?.operation == "open file")
        #expect(error?.message.contains("truncated") == true, "\(String(describing: error))")
    }

    @Test func oversizedReadIsRefusedBeforeAllocating() throws {
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        let dataset = try file.root.createDataset("d", shape: [10, 10], values: [Int16](repeating: 7, count: 100))
        try dataset.writeAttribute("v", values: [Double](repeating: 1, count: 50))
        try dataset.writeAttribute("s", strings: (0..<20).map { "name\($0)" }, variableLength: false)
        let strings = try file.root.createStringDataset("s", strings: ["a", "b", "c"])

        #expect(try dataset.read(as: Int16.self, limit: 100).count == 100)
        let error = expectHDF5Error(.tooLarge, file: path, objectPath: "/d") {
            _ = try dataset.read(as: Int16.self, limit: 99)
        }
        #expect(error?.message.contains("100") == true)
        expectHDF5Error(.tooLarge, file: path, objectPath: "/d") {
            _ = try dataset.readNumericAttribute("v", as: Float.self, limit: 49)
        }
        expectHDF5Error(.tooLarge, file: path, objectPath: "/s") { _ = try strings.readStrings(limit: 2) }
        // Fixed-length strings: the byte count is limited too (20 strings x 6 bytes).
        #expect(try dataset.readStringArrayAttribute("s", limit: 120).count == 20)
        expectHDF5Error(.tooLarge, file: path, objectPath: "/d") {
            _ = try dataset.readStringArrayAttribute("s", limit: 100)
        }
    }

    @Test func elementCountOverflowAndAbsurdDimensions() {
        let site = HDF5Site(file: "f.h5", path: "/x")
        #expect(throws: HDF5Error.self) {
            _ = try HDF5Limits.checkedElementCount([1 << 40, 1 << 40], limit: .max, site: site, operation: "read")
        }
        let absurd = #expect(throws: HDF5Error.self) {
            _ = try HDF5Limits.checkedElementCount([UInt64.max], limit: .max, site: site, operation: "read")
        }
        #expect(absurd?.kind == .corrupt)
        let overflow = #expect(throws: HDF5Error.self) {
            _ = try HDF5Limits.checkedElementCount([1 << 32, 1 << 32, 4], limit: .max, site: site, operation: "read")
        }
        #expect(overflow?.kind == .tooLarge)
        #expect((try? HDF5Limits.checkedElementCount([], limit: 1, site: site, operation: "read")) == 1)
        #expect((try? HDF5Limits.checkedElementCount([0, 1 << 62], limit: 1, site: site, operation: "read")) == 0)
        #expect(HDF5Limits.maxElements == 1 << 28)
    }

    @Test func errorDescriptionNamesEverything() {
        let error = HDF5Error(
            kind: .notFound, file: "/tmp/m.h5", objectPath: "/model_weights", operation: "open group",
            message: "no object named 'model_weights' in '/'")
        #expect(error.description == "/tmp/m.h5: cannot open group at '/model_weights': no object named 'model_weights' in '/'")
    }
}

private func scratchDirectoryPath() -> String {
    URL(fileURLWithPath: temporaryFile("unused")).deletingLastPathComponent().path
}
