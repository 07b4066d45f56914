import Foundation
import ModelPortData
import Testing
import TestSupport

/// SHA-256 against coreutils' `sha256sum` on the same bytes.
struct SHA256Tests {
    func sha256sum(_ path: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(String(decoding: out, as: UTF8.self).prefix(64))
    }

    /// Every length around the 55/56/64-byte padding boundaries, and a few blocks.
    @Test func agreesWithSha256sumAroundBlockBoundaries() throws {
        let dir = TestPaths.temporaryDirectory("sha")
        for length in [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000] {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let path = dir.appendingPathComponent("m\(length)").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            #expect(SHA256.hex(bytes) == (try sha256sum(path)), "length \(length)")
        }
    }

    /// Fed in uneven pieces, the digest is that of the whole.
    @Test func incrementalUpdatesMatchOneShot() throws {
        let path = TestPaths.mnistDirectory.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var hasher = SHA256()
        var start = 0
        for size in [1, 63, 2, 64, 200, 7] where start < bytes.count {
            hasher.update(Array(bytes[start..<min(bytes.count, start + size)]))
            start += size
        }
        hasher.update(Array(bytes[min(start, bytes.count)...]))
        #expect(hasher.finalizeHex() == (try sha256sum(path)))
    }

    /// The catalog's hashes are those of the shared MNIST files' decompressed
    /// bytes, as `zcat | sha256sum` computes them.
    @Test func catalogHashesMatchTheSharedFiles() throws {
        for file in DatasetDescriptor.mnist.files where file.size < 1_000_000 {
            let gz = TestPaths.mnistDirectory.appendingPathComponent(file.name + ".gz").path
            let raw = TestPaths.temporaryDirectory("sha").appendingPathComponent(file.name).path
            let shell = Process()
            shell.executableURL = URL(fileURLWithPath: "/bin/sh")
            shell.arguments = ["-c", "zcat '\(gz)' > '\(raw)'"]
            try shell.run()
            shell.waitUntilExit()
            #expect(try sha256sum(raw) == file.sha256, "\(file.name)")
        }
    }
}
