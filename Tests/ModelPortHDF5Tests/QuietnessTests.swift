import Foundation
import Testing
import ModelPortRuntime
@testable import ModelPortHDF5

/// Runs `body` with file descriptor 2 redirected to a temporary file and
/// returns whatever was written to it.
private func capturingStandardError(_ body: () -> Void) throws -> String {
    let capturePath = temporaryFile("stderr.txt")
    let captureFD = open(capturePath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    try #require(captureFD >= 0)
    fflush(nil)  // every C stream, stderr included
    let saved = dup(2)
    try #require(saved >= 0)
    dup2(captureFD, 2)
    close(captureFD)
    body()
    fflush(nil)  // every C stream, stderr included
    dup2(saved, 2)
    close(saved)
    return (try? String(contentsOfFile: capturePath, encoding: .utf8)) ?? ""
}

/// Failing operations must throw, never print HDF5's error stack.
///
/// Serialised because it redirects the process-wide stderr. Other suites may
/// run meanwhile and Swift Testing may log to stderr, so the check is that no
/// HDF5 diagnostics appear (they always begin `HDF5-DIAG`, and name `H5*.c`
/// source files and `#000:` frames); a probe line shows the capture works.
@Suite(.serialized) struct QuietnessTests {
    @Test func failingOperationsPrintNothing() throws {
        let directory = URL(fileURLWithPath: temporaryFile()).deletingLastPathComponent()
        let valid = directory.appendingPathComponent("valid.h5").path
        try makeSampleFile(valid)
        let whole = try Data(contentsOf: URL(fileURLWithPath: valid))
        let truncated = directory.appendingPathComponent("truncated.h5").path
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: truncated))
        let random = directory.appendingPathComponent("random.h5").path
        var rng = SplitMix64(seed: 7)
        try Data((0..<4096).map { _ in UInt8(truncatingIfNeeded: rng.next()) }).write(to: URL(fileURLWithPath: random))
        let empty = directory.appendingPathComponent("empty.h5").path
        #expect(FileManager.default.createFile(atPath: empty, contents: Data()))

        var failures = 0
        func attempt(_ body: () throws -> Void) {
            do { try body() } catch is HDF5Error { failures += 1 } catch { Issue.record("untyped error \(error)") }
        }
        let output = try capturingStandardError {
            FileHandle.standardError.write(Data("capture-probe\n".utf8))
            attempt { _ = try HDF5File(openingAt: directory.appendingPathComponent("missing.h5").path) }
            attempt { _ = try HDF5File(openingAt: truncated) }
            attempt { _ = try HDF5File(openingAt: random) }
            attempt { _ = try HDF5File(openingAt: empty) }
            attempt { _ = try HDF5File(openingAt: directory.path) }
            attempt { _ = try HDF5File(creatingAt: directory.path) }
            attempt { _ = try HDF5File(creatingAt: valid + ".d/x.h5") }
            _ = HDF5File.isHDF5(random)
            _ = HDF5File.isHDF5(directory.path)
            if let file = try? HDF5File(openingAt: valid) {
                let root = file.root
                attempt { _ = try root.dataset("missing/path") }
                attempt { _ = try root.group("names") }
                attempt { _ = try root.dataset("model_weights") }
                attempt { _ = try root.group("names/below/a/dataset") }
                attempt { _ = try root.readNumericAttribute("title", as: Float.self) }
                attempt { _ = try root.readStringAttribute("missing") }
                attempt { _ = try root.dataset("names").read(as: Double.self) }
                attempt { _ = try root.dataset("model_weights/dense/dense/bias:0").read(as: Float.self, limit: 1) }
                attempt { try root.writeAttribute("x", string: "read-only file") }
                _ = root.exists("names/below")
                _ = root.isGroup("a/b/c")
            } else {
                Issue.record("valid file did not open")
            }
        }
        #expect(failures == 16)
        #expect(output.contains("capture-probe"), "stderr capture did not work")
        #expect(!output.contains("HDF5"), "HDF5 printed: \(output)")
        #expect(!output.contains("#000:"), "HDF5 printed: \(output)")
        #expect(!output.contains(".c line"), "HDF5 printed: \(output)")
    }
}
