import Foundation
import Testing
@testable import ModelPortHDF5

@Suite struct AttributeTests {
    @Test func stringAttributes() throws {
        let path = temporaryFile()
        let unicode = "Grüße, 世界 🌍"
        let names = ["dense", "conv2d_1", "", "ünïcödé ✓"]
        do {
            let file = try HDF5File(creatingAt: path)
            let group = try file.root.createGroup("g")
            try group.writeAttribute("vscalar", string: unicode)
            try group.writeAttribute("fscalar", string: unicode, variableLength: false)
            try group.writeAttribute("varray", strings: names)
            try group.writeAttribute("farray", strings: names, variableLength: false)
            try group.writeAttribute("fascii", strings: ["dense", "dense_1", "x"], variableLength: false)
            try group.writeAttribute("empty", string: "")
            try group.writeAttribute("one", strings: ["only"], variableLength: false)
            try group.writeAttribute("none", strings: [])
        }
        let group = try HDF5File(openingAt: path).root.group("g")
        #expect(try group.readStringAttribute("vscalar") == unicode)
        #expect(try group.readStringAttribute("fscalar") == unicode)
        #expect(try group.readStringArrayAttribute("vscalar") == [unicode])
        #expect(try group.readStringArrayAttribute("varray") == names)
        #expect(try group.readStringArrayAttribute("farray") == names)
        #expect(try group.readStringArrayAttribute("fascii") == ["dense", "dense_1", "x"])
        #expect(try group.readStringAttribute("empty") == "")
        // A one-element array reads as a single string.
        #expect(try group.readStringAttribute("one") == "only")
        #expect(try group.readStringArrayAttribute("none") == [])

        #expect(try group.attributeType("varray") == .string)
        #expect(try group.attributeType("farray") == .string)
        #expect(try group.attributeShape("vscalar") == [])
        #expect(try group.attributeShape("varray") == [4])
        #expect(try group.attributeShape("farray") == [4])

        expectHDF5Error(.wrongType, file: path, objectPath: "/g") { _ = try group.readStringAttribute("varray") }
    }

    @Test func fixedLengthLayoutMatchesH5py() throws {
        // h5py stores numpy 'S' arrays (Keras 2's layer_names, weight_names) as
        // fixed-length, NUL-padded ASCII strings sized to the longest element.
        let path = temporaryFile()
        do {
            let file = try HDF5File(creatingAt: path)
            try file.root.writeAttribute(
                "layer_names", strings: ["conv2d", "max_pooling2d", "dense"], variableLength: false)
        }
        let root = try HDF5File(openingAt: path).root
        #expect(try root.readStringArrayAttribute("layer_names") == ["conv2d", "max_pooling2d", "dense"])
        // Check the on-disk type with the reference tool, when installed.
        if let dump = h5dumpAttributes(path) {
            #expect(dump.contains("STRSIZE 13;"))
            #expect(dump.contains("H5T_STR_NULLPAD"))
            #expect(dump.contains("H5T_CSET_ASCII"))
            #expect(dump.contains("DATASPACE  SIMPLE { ( 3 ) / ( 3 ) }"))
        }
    }

    @Test func numericAttributes() throws {
        let path = temporaryFile()
        do {
            let file = try HDF5File(creatingAt: path)
            let dataset = try file.root.createDataset("d", shape: [2], values: [Float(1), 2])
            try dataset.writeAttribute("scale", values: [Double(-0.125)], shape: [])
            try dataset.writeAttribute("ints", values: [Int32.min, -1, 0, Int32.max])
            try dataset.writeAttribute("matrix", values: [UInt16(1), 2, 3, 4, 5, 6], shape: [2, 3])
            try dataset.writeAttribute("count", values: [Int(1) << 40], shape: [])
            try dataset.writeAttribute("bytes", values: [Int8(-128), 127])
        }
        let dataset = try HDF5File(openingAt: path).root.dataset("d")
        #expect(try dataset.readNumericAttribute("scale", as: Double.self) == [-0.125])
        #expect(try dataset.attributeShape("scale") == [])
        #expect(try dataset.attributeType("scale") == .float64)
        #expect(try dataset.readNumericAttribute("ints", as: Int32.self) == [Int32.min, -1, 0, Int32.max])
        #expect(try dataset.attributeType("ints") == .int32)
        #expect(try dataset.readNumericAttribute("matrix", as: UInt16.self) == [1, 2, 3, 4, 5, 6])
        #expect(try dataset.attributeShape("matrix") == [2, 3])
        #expect(try dataset.attributeType("matrix") == .uint16)
        #expect(try dataset.readNumericAttribute("count", as: Int.self) == [1 << 40])
        #expect(try dataset.attributeType("count") == .int64)
        #expect(try dataset.readNumericAttribute("bytes", as: Int8.self) == [-128, 127])
        // Conversions: ints to floats; doubles to floats; out-of-range clamps.
        #expect(try dataset.readNumericAttribute("matrix", as: Float.self) == [1, 2, 3, 4, 5, 6])
        #expect(try dataset.readNumericAttribute("scale", as: Float.self) == [-0.125])
        #expect(try dataset.readNumericAttribute("ints", as: Int8.self) == [-128, -1, 0, 127])
        #expect(try dataset.attributeNames() == ["bytes", "count", "ints", "matrix", "scale"])
    }

    @Test func replacingAndDeleting() throws {
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        let root = file.root
        try root.writeAttribute("a", string: "first")
        try root.writeAttribute("a", string: "second, longer than the first")
        #expect(try root.readStringAttribute("a") == "second, longer than the first")
        // Replacing with another type and shape.
        try root.writeAttribute("a", values: [Float(1.5), 2.5])
        #expect(try root.attributeType("a") == .float32)
        #expect(try root.readNumericAttribute("a", as: Float.self) == [1.5, 2.5])
        try root.writeAttribute("a", strings: ["x", "y", "z"], variableLength: false)
        #expect(try root.readStringArrayAttribute("a") == ["x", "y", "z"])

        try root.writeAttribute("b", values: [UInt8(9)])
        #expect(try root.attributeNames() == ["a", "b"])
        #expect(try root.hasAttribute("b"))
        try root.deleteAttribute("b")
        #expect(try !root.hasAttribute("b"))
        #expect(try root.attributeNames() == ["a"])
        expectHDF5Error(.notFound, file: path, objectPath: "/") { try root.deleteAttribute("b") }
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/") {
            try root.writeAttribute("c", values: [Int16(1), 2], shape: [])
        }
        expectHDF5Error(.invalidArgument, file: path, objectPath: "/") {
            try root.writeAttribute("c", values: [Int16(1), 2], shape: [3])
        }
        #expect(try !root.hasAttribute("c"))
    }

    @Test func emptyNumericArrayReadsAsNoStrings() throws {
        // Keras writes a layer without weights as `weight_names = np.array([])`,
        // which h5py stores as an empty float64 array.
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        try file.root.writeAttribute("weight_names", values: [Double]())
        #expect(try file.root.attributeType("weight_names") == .float64)
        #expect(try file.root.attributeShape("weight_names") == [0])
        #expect(try file.root.readStringArrayAttribute("weight_names") == [])
        #expect(try file.root.readNumericAttribute("weight_names", as: Float.self) == [])
        try file.root.writeAttribute("nonempty", values: [Double(1)])
        expectHDF5Error(.wrongType, file: path, objectPath: "/") {
            _ = try file.root.readStringArrayAttribute("nonempty")
        }
    }

    @Test func largeStringAttributeBeyondCompactLimit() throws {
        // Keras stores whole model configs as one attribute; HDF5's compact
        // object-header storage tops out at 64 KiB.
        let path = temporaryFile()
        let big = String(repeating: "{\"layer\": \"dense\"}, ", count: 10_000)
        let manyNames = (0..<5000).map { "layer_with_a_long_name_\($0)" }
        do {
            let file = try HDF5File(creatingAt: path)
            try file.root.writeAttribute("model_config", string: big)
            try file.root.writeAttribute("names", strings: manyNames, variableLength: false)
        }
        let root = try HDF5File(openingAt: path).root
        #expect(try root.readStringAttribute("model_config") == big)
        #expect(try root.readStringArrayAttribute("names") == manyNames)
    }
}

/// `h5dump -A` output for a closed file, or `nil` if the tool is not installed.
private func h5dumpAttributes(_ path: String) -> String? {
    let tool = ["/usr/bin/h5dump", "/usr/local/bin/h5dump"].first { FileManager.default.isExecutableFile(atPath: $0) }
    guard let tool else { return nil }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool)
    process.arguments = ["-A", path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
