import Foundation
import Testing
@testable import ModelPortHDF5

@Suite struct ConcurrencyTests {
    /// Eight tasks hammer one file (shared and separately opened handles);
    /// the global lock must keep the non-thread-safe library consistent.
    @Test func concurrentReadsOfOneFile() async throws {
        let path = temporaryFile()
        let values = (0..<10_000).map { Float($0) * 0.25 - 7 }
        do {
            let file = try HDF5File(creatingAt: path)
            _ = try file.root.createDataset("w/a", shape: [100, 100], values: values, gzipLevel: 3)
            _ = try file.root.createDataset("w/b", shape: [10_000], values: values.map(Double.init))
            try file.root.group("w").writeAttribute("names", strings: ["a", "b"], variableLength: false)
            try file.root.writeAttribute("config", string: "{\"layers\": []}")
        }
        let shared = try HDF5File(openingAt: path)
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<8 {
                group.addTask {
                    var checks = 0
                    for iteration in 0..<25 {
                        let file = (task + iteration) % 2 == 0 ? shared : try HDF5File(openingAt: path)
                        let w = try file.root.group("w")
                        guard try w.childNames() == ["a", "b"],
                              try w.readStringArrayAttribute("names") == ["a", "b"],
                              try file.root.readStringAttribute("config") == "{\"layers\": []}",
                              try w.dataset("a").read(as: Float.self) == values,
                              try w.dataset("b").read(as: Float.self) == values,
                              file.root.isDataset("w/b"), !file.root.exists("w/c")
                        else { return -1 }
                        checks += 1
                    }
                    return checks
                }
            }
            var all: [Int] = []
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0 == 25 })
    }

    /// Concurrent writers to separate files, while objects are dropped (and
    /// closed in deinit) on other threads.
    @Test func concurrentWritesToSeparateFiles() async throws {
        let directory = URL(fileURLWithPath: temporaryFile()).deletingLastPathComponent()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    let path = directory.appendingPathComponent("f\(task).h5").path
                    for round in 0..<10 {
                        let file = try HDF5File(creatingAt: path)
                        let data = (0..<500).map { Int32(task * 1000 + round + $0) }
                        _ = try file.root.createDataset("g/d", shape: [500], values: data)
                        try file.root.writeAttribute("round", values: [round], shape: [])
                        let back = try HDF5File(openingAt: path, mode: .readWrite)
                        guard try back.root.dataset("g/d").read(as: Int32.self) == data else {
                            throw CancellationError()
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
