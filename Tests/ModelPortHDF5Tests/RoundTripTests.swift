import Foundation
import Testing
import ModelPortRuntime
@testable import ModelPortHDF5

/// Shapes covering ranks 0, 1, 2 and 4.
private let shapes: [[Int]] = [[], [7], [3, 5], [2, 3, 1, 4]]

/// `count` values of `T` starting with the type's extremes, then pseudo-random
/// ones (negative, large and, for floats, fractional).
private func sampleValues<T: HDF5Scalar & FixedWidthInteger>(_: T.Type, count: Int) -> [T] {
    var rng = SplitMix64(seed: UInt64(count) &* 31 &+ UInt64(MemoryLayout<T>.size))
    let edges: [T] = [T.min, T.max, 0, T.min + 1, T.max - 1]
    return (0..<count).map { $0 < edges.count && count > 1 ? edges[$0] : T(truncatingIfNeeded: rng.next()) }
}

private func sampleValues<T: HDF5Scalar & BinaryFloatingPoint>(_: T.Type, count: Int) -> [T] {
    var rng = SplitMix64(seed: UInt64(count) &* 17)
    let edges: [T] = [-T.greatestFiniteMagnitude, T.greatestFiniteMagnitude, -0.000123, 1.5e-30, -.infinity]
    return (0..<count).map { index in
        if index < edges.count && count > 1 { return edges[index] }
        let unit = T(Double(rng.next() >> 11) / Double(1 << 53))  // [0, 1)
        return (unit - 0.5) * 2_000_000 + T(index) / 3
    }
}

private func roundTrip<T: HDF5Scalar & Equatable>(
    _ type: T.Type, expectedType: HDF5ElementType, values: ([Int]) -> [T]
) throws {
    let path = temporaryFile()
    var written: [[T]] = []
    do {
        let file = try HDF5File(creatingAt: path)
        for (index, shape) in shapes.enumerated() {
            let data = values(shape)
            written.append(data)
            let dataset = try file.root.createDataset("data/r\(index)", shape: shape, values: data)
            #expect(try dataset.shape() == shape)
        }
    }
    let file = try HDF5File(openingAt: path)
    for (index, shape) in shapes.enumerated() {
        let dataset = try file.root.dataset("data/r\(index)")
        #expect(try dataset.shape() == shape)
        #expect(try dataset.elementType() == expectedType)
        let read = try dataset.read(as: T.self)
        #expect(read.count == written[index].count)
        for (position, (got, want)) in zip(read, written[index]).enumerated() {
            #expect(got == want, "\(T.self) rank \(shape.count) element \(position)")
        }
    }
}

@Suite struct RoundTripTests {
    @Test func float32() throws {
        try roundTrip(Float.self, expectedType: .float32) { sampleValues(Float.self, count: $0.reduce(1, *)) }
    }
    @Test func float64() throws {
        try roundTrip(Double.self, expectedType: .float64) { sampleValues(Double.self, count: $0.reduce(1, *)) }
    }
    @Test func int8() throws {
        try roundTrip(Int8.self, expectedType: .int8) { sampleValues(Int8.self, count: $0.reduce(1, *)) }
    }
    @Test func int16() throws {
        try roundTrip(Int16.self, expectedType: .int16) { sampleValues(Int16.self, count: $0.reduce(1, *)) }
    }
    @Test func int32() throws {
        try roundTrip(Int32.self, expectedType: .int32) { sampleValues(Int32.self, count: $0.reduce(1, *)) }
    }
    @Test func int64() throws {
        try roundTrip(Int64.self, expectedType: .int64) { sampleValues(Int64.self, count: $0.reduce(1, *)) }
    }
    @Test func int() throws {
        try roundTrip(Int.self, expectedType: .int64) { sampleValues(Int.self, count: $0.reduce(1, *)) }
    }
    @Test func uint8() throws {
        try roundTrip(UInt8.self, expectedType: .uint8) { sampleValues(UInt8.self, count: $0.reduce(1, *)) }
    }
    @Test func uint16() throws {
        try roundTrip(UInt16.self, expectedType: .uint16) { sampleValues(UInt16.self, count: $0.reduce(1, *)) }
    }
    @Test func uint32() throws {
        try roundTrip(UInt32.self, expectedType: .uint32) { sampleValues(UInt32.self, count: $0.reduce(1, *)) }
    }
    @Test func uint64() throws {
        try roundTrip(UInt64.self, expectedType: .uint64) { sampleValues(UInt64.self, count: $0.reduce(1, *)) }
    }

    @Test func scalarDatasetHasEmptyShape() throws {
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        let dataset = try file.root.createDataset("s", shape: [], values: [Double(-2.75)])
        #expect(try dataset.shape() == [])
        #expect(try dataset.read(as: Double.self) == [-2.75])
    }

    @Test func emptyDatasetRoundTrips() throws {
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        let dataset = try file.root.createDataset("e", shape: [0, 3], values: [Float]())
        #expect(try dataset.shape() == [0, 3])
        #expect(try dataset.read(as: Float.self) == [])
        let gz = try file.root.createDataset("ez", shape: [0], values: [Int32](), gzipLevel: 4)
        #expect(try gz.read(as: Int32.self) == [])
    }

    @Test func float64ReadAsFloat() throws {
        let path = temporaryFile()
        let values: [Double] = [1.5, -2.25, 1e10, 0.1, -3.0e-5, 123456.789]
        let file = try HDF5File(creatingAt: path)
        let dataset = try file.root.createDataset("d", shape: [2, 3], values: values)
        let floats = try dataset.read(as: Float.self)
        #expect(floats == values.map { Float($0) })
    }

    @Test func integersReadAsFloatAndDouble() throws {
        let path = temporaryFile()
        let file = try HDF5File(creatingAt: path)
        let ints: [Int32] = [-7, 0, 42, 1 << 20, -(1 << 24)]
        let bytes: [UInt8] = [0, 1, 128, 255]
        _ = try file.root.createDataset("i", shape: [5], values: ints)
        _ = try file.root.createDataset("u", shape: [2, 2], values: bytes)
        #expect(try file.root.dataset("i").read(as: Float.self) == ints.map { Float($0) })
        #expect(try file.root.dataset("u").read(as: Double.self) == bytes.map { Double($0) })
        #expect(try file.root.dataset("u").read(as: Int64.self) == bytes.map { Int64($0) })
    }

    @Test func gzipRoundTrip() throws {
        let path = temporaryFile()
        let count = 300 * 1000
        let values = (0..<count).map { Float($0 % 1000) * 0.5 - 100 }
        do {
            let file = try HDF5File(creatingAt: path)
            _ = try file.root.createDataset("g/z", shape: [300, 1000], values: values, gzipLevel: 6)
            _ = try file.root.createDataset("g/d", shape: [2, 2, 2], values: [Double](repeating: -1.25, count: 8),
                                            gzipLevel: 1)
        }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? .max
        #expect(size < count, "compressed file is \(size) bytes, raw data \(count * 4)")
        let file = try HDF5File(openingAt: path)
        #expect(try file.root.dataset("g/z").read(as: Float.self) == values)
        #expect(try file.root.dataset("/g/d").read(as: Double.self) == [Double](repeating: -1.25, count: 8))
    }

    @Test func stringDatasetRoundTrip() throws {
        let path = temporaryFile()
        let strings = ["conv2d/kernel:0", "", "naïve ☃ 日本語", String(repeating: "x", count: 5000)]
        do {
            let file = try HDF5File(creatingAt: path)
            _ = try file.root.createStringDataset("meta/names", strings: strings)
            _ = try file.root.createStringDataset("meta/none", strings: [])
        }
        let file = try HDF5File(openingAt: path)
        let dataset = try file.root.dataset("meta/names")
        #expect(try dataset.elementType() == .string)
        #expect(try dataset.shape() == [4])
        #expect(try dataset.readStrings() == strings)
        #expect(try file.root.dataset("meta/none").readStrings() == [])
    }

    @Test func readWriteModeAddsToExistingFile() throws {
        let path = temporaryFile()
        try makeSampleFile(path)
        do {
            let file = try HDF5File(openingAt: path, mode: .readWrite)
            _ = try file.root.createDataset("extra", shape: [1], values: [Int16(-5)])
            try file.root.group("model_weights").writeAttribute("backend", string: "tensorflow")
            try file.flush()
        }
        let file = try HDF5File(openingAt: path)
        #expect(try file.root.dataset("extra").read(as: Int16.self) == [-5])
        #expect(try file.root.group("model_weights").readStringAttribute("backend") == "tensorflow")
        #expect(try file.root.dataset("model_weights/dense/dense/bias:0").read(as: Float.self) == [0.25, -0.5])
    }
}

/// Overwriting an existing dataset in place.
struct DatasetWriteTests {
    @Test func overwritesEveryElement() throws {
        let path = temporaryFile("w.h5")
        do {
            let file = try HDF5File(creatingAt: path)
            _ = try file.root.createDataset("a/b", shape: [2, 3], values: [Float](repeating: 0, count: 6))
        }
        let values: [Float] = [1.5, -2, 3e7, 0, -0.25, 6]
        do {
            let file = try HDF5File(openingAt: path, mode: .readWrite)
            try file.root.dataset("a/b").write(values)
            #expect(throws: HDF5Error.self) { try file.root.dataset("a/b").write([Float](repeating: 1, count: 5)) }
        }
        let file = try HDF5File(openingAt: path)
        #expect(try file.root.dataset("a/b").read(as: Float.self) == values)
        #expect(throws: HDF5Error.self) { try file.root.dataset("a/b").write(values) }
    }
}
