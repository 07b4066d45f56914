import Foundation
import XCTest
@testable import ModelPortFiles

final class AtomicFileTests: FileTestCase {
    /// Names in the scratch directory, temporary files included.
    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: directory).sorted() }

    func testWritesAndReplaces() throws {
        let file = path("out.txt")
        try AtomicFile.write(Data("one".utf8), to: file)
        try AtomicFile.write(Data("two".utf8), to: file)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "two")
        XCTAssertEqual(try listing(), ["out.txt"])
    }

    func testRefusesToReplaceADirectoryAndLeavesItAlone() throws {
        let inside = try write("keep", "keep.txt")
        let error = fileError { try AtomicFile.write(Data("x".utf8), to: self.directory) }
        XCTAssertEqual(error?.kind, .refusedOverwrite)
        XCTAssertEqual(try String(contentsOfFile: inside, encoding: .utf8), "keep")
        let dot = fileError {
            let previous = FileManager.default.currentDirectoryPath
            FileManager.default.changeCurrentDirectoryPath(self.directory)
            defer { FileManager.default.changeCurrentDirectoryPath(previous) }
            try AtomicFile.write(Data("x".utf8), to: ".")
        }
        XCTAssertEqual(dot?.kind, .refusedOverwrite)
        XCTAssertEqual(try listing(), ["keep.txt"])
    }

    func testRefusesToOverwriteAnInputOfThisProcess() throws {
        let model = try write("weights", "model.h5")
        _ = try InputFile.read(model, maxBytes: 100)
        let error = fileError { try AtomicFile.write(Data("dump".utf8), to: model) }
        XCTAssertEqual(error?.kind, .refusedOverwrite)
        XCTAssertTrue(error?.message.contains("input") ?? false)
        XCTAssertEqual(try String(contentsOfFile: model, encoding: .utf8), "weights")
        // Through a symbolic link too.
        XCTAssertEqual(symlink(model, path("alias.h5")), 0)
        XCTAssertEqual(fileError { try AtomicFile.write(Data("dump".utf8), to: self.path("alias.h5")) }?.kind, .refusedOverwrite)
    }

    func testKeepsTheTargetsPermissions() throws {
        let file = try write("secret", "private.txt")
        XCTAssertEqual(chmod(file, 0o600), 0)
        try AtomicFile.write(Data("new secret".utf8), to: file)
        var info = stat()
        XCTAssertEqual(stat(file, &info), 0)
        XCTAssertEqual(info.st_mode & 0o7777, 0o600)
    }

    func testWritesThroughASymbolicLinkAndKeepsIt() throws {
        let real = try write("old", "real.txt")
        XCTAssertEqual(symlink("real.txt", path("link.txt")), 0)
        try AtomicFile.write(Data("new".utf8), to: path("link.txt"))
        var info = stat()
        XCTAssertEqual(lstat(path("link.txt"), &info), 0)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFLNK)
        XCTAssertEqual(try String(contentsOfFile: real, encoding: .utf8), "new")
    }

    func testAFailedWriteLeavesNothingBehind() throws {
        let file = try write("old", "out.txt")
        struct Boom: Error {}
        XCTAssertThrowsError(try AtomicFile.write(to: file) { temporary in
            try Data("half".utf8).write(to: URL(fileURLWithPath: temporary))
            throw Boom()
        })
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "old")
        XCTAssertEqual(try listing(), ["out.txt"])
    }

    func testNamesTheOutputWhenItsDirectoryCannotBeWritten() throws {
        let error = fileError { try AtomicFile.write(Data("x".utf8), to: self.path("missing/out.txt")) }
        XCTAssertTrue(error?.description.hasPrefix(path("missing/out.txt")) ?? false)
        XCTAssertTrue(error?.message.contains("does not exist") ?? false)
        XCTAssertEqual(fileError { try AtomicFile.write(Data("x".utf8), to: "/dev/null") }?.kind, .refusedOverwrite)
    }
}
