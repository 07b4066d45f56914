import Foundation
import XCTest
@testable import ModelPortFiles

/// Scratch directory removed after each test.
class FileTestCase: XCTestCase {
    var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "modelport-files-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    func write(_ text: String, _ name: String) throws -> String {
        let file = path(name)
        try Data(text.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// The error `body` throws, failing the test when it throws none.
    func fileError(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) -> FileError? {
        do { try body() } catch let error as FileError { return error } catch {
            XCTFail("expected a FileError, got \(error)", file: file, line: line)
            return nil
        }
        XCTFail("expected an error", file: file, line: line)
        return nil
    }
}

final class InputFileTests: FileTestCase {
    func testReadsARegularFileWhole() throws {
        let file = try write("hello", "a.txt")
        XCTAssertEqual(try InputFile.read(file, maxBytes: 100), Data("hello".utf8))
        XCTAssertEqual(try InputFile.prefix(file, count: 2), Data("he".utf8))
        XCTAssertEqual(try InputFile.prefix(file, count: 99), Data("hello".utf8))
        XCTAssertTrue(InputFile.isInput(file))
    }

    func testRefusesAFIFOWithoutBlocking() throws {
        let fifo = path("x.h5")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let error = fileError { _ = try InputFile.read(fifo, maxBytes: 100) }
        XCTAssertEqual(error?.kind, .notRegularFile)
        XCTAssertTrue(error?.description.contains("FIFO") ?? false, "\(String(describing: error))")
        XCTAssertTrue(error?.description.hasPrefix(fifo) ?? false)
    }

    func testRefusesDirectoriesAndDevices() {
        XCTAssertEqual(fileError { _ = try InputFile.check(directory, maxBytes: 100) }?.kind, .notRegularFile)
        let device = fileError { _ = try InputFile.read("/dev/zero", maxBytes: 100) }
        XCTAssertEqual(device?.kind, .notRegularFile)
        XCTAssertTrue(device?.message.contains("device") ?? false)
    }

    func testChecksTheSizeBeforeReading() throws {
        let file = try write(String(repeating: "x", count: 101), "big.bin")
        let error = fileError { _ = try InputFile.read(file, maxBytes: 100) }
        XCTAssertEqual(error?.kind, .tooLarge)
        XCTAssertTrue(error?.message.contains("101 bytes") ?? false)
    }

    func testSaysWhatIsWrongWithThePath() throws {
        XCTAssertEqual(fileError { _ = try InputFile.read(path("missing"), maxBytes: 1) }?.message, "no such file")
        XCTAssertEqual(symlink(path("loop-a"), path("loop-b")), 0)
        XCTAssertEqual(symlink(path("loop-b"), path("loop-a")), 0)
        XCTAssertTrue(fileError { _ = try InputFile.read(path("loop-a"), maxBytes: 1) }?.message.contains("symbolic-link loop") ?? false)
        let long = directory + "/" + String(repeating: "n", count: 300)
        XCTAssertTrue(fileError { _ = try InputFile.read(long, maxBytes: 1) }?.message.contains("too long") ?? false)
    }

    func testControlCharactersInPathsAreEscaped() {
        let error = FileError("evil\u{1B}[2J\nname", .notFound, "no such file")
        XCTAssertEqual(error.description, "evil\\x1B[2J\\nname: no such file")
        XCTAssertEqual(DisplayPath.escapingControlCharacters("a\nb\u{9B}c", keepNewlines: true), "a\nb\\u{9B}c")
    }
}
