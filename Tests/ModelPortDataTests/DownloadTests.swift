import Foundation
import ModelPortData
import Testing
import TestSupport

/// The download path against a local server on loopback serving copies of
/// the shared MNIST files (byte-identical to the originals).
@Suite(.serialized)
struct DownloadTests {
    let shared = TestPaths.mnistDirectory

    /// A served directory holding copies of the shared files (optionally altered).
    func servedCopies(_ names: [String], alter: ((String, inout Data) -> Void)? = nil) throws -> URL {
        let dir = TestPaths.temporaryDirectory("served")
        for name in names {
            var data = try Data(contentsOf: shared.appendingPathComponent(name + ".gz"))
            alter?(name, &data)
            try data.write(to: dir.appendingPathComponent(name + ".gz"))
        }
        return dir
    }

    func cacheContents(_ cache: URL) -> [String] {
        let dir = cache.appendingPathComponent("datasets/mnist")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).sorted()
    }

    /// Nothing local: the locator downloads every file into the cache,
    /// verified, and the files read back as the real dataset.
    @Test func downloadsTheWholeDatasetIntoTheCache() throws {
        let server = try LocalHTTPServer(serving: try servedCopies(DatasetDescriptor.mnist.files.map(\.name)))
        let cache = TestPaths.temporaryDirectory("cache")
        let progress = RecordingProgress()
        let locator = DatasetLocator(environment: [:], searchRoots: [], cacheDirectory: cache,
                                     mirrors: [server.baseURL], progress: progress)
        let location = try locator.locate(.mnist)
        #expect(location.origin == "downloaded")
        #expect(cacheContents(cache) == DatasetDescriptor.mnist.files.map { $0.name + ".gz" }.sorted())
        for file in DatasetDescriptor.mnist.files {
            let got = try Data(contentsOf: URL(fileURLWithPath: location.directory).appendingPathComponent(file.name + ".gz"))
            #expect(got == (try Data(contentsOf: shared.appendingPathComponent(file.name + ".gz"))))
        }
        #expect(progress.finished.sorted() == DatasetDescriptor.mnist.files.map { $0.name + ".gz" }.sorted())
        // Read back through the loader: the same labels as the shared copy.
        let downloaded = try DatasetDescriptor.mnist.load(.test, from: location.directory, limit: 100)
        let original = try DatasetDescriptor.mnist.load(.test, from: shared.path, limit: 100)
        #expect(downloaded.labels == original.labels)
        // A second run finds the cache and does not download again.
        let again = DatasetLocator(environment: [:], searchRoots: [], cacheDirectory: cache,
                                   mirrors: [URL(string: "http://127.0.0.1:1/")!])
        #expect(try again.locate(.mnist).origin == "cache")
    }

    /// A served file whose bytes differ from the original: a clear error
    /// naming the file and the hash, and nothing left in the cache.
    @Test func corruptDownloadIsRejectedAndNotCached() throws {
        let file = DatasetDescriptor.mnist.testLabels
        let served = try servedCopies([file.name]) { _, data in
            // Still valid gzip, different content: re-compress altered labels.
            data = try! gzipped(labelsWithOneChange(data))
        }
        let server = try LocalHTTPServer(serving: served)
        let cache = TestPaths.temporaryDirectory("cache").appendingPathComponent("datasets/mnist")
        do {
            try DatasetDownloader(mirrors: [server.baseURL]).fetch(file, into: cache)
            Issue.record("a corrupt download must fail")
        } catch let error as DataError {
            #expect(error.description.contains("t10k-labels-idx1-ubyte.gz"), "\(error)")
            #expect(error.description.contains("SHA-256 mismatch"), "\(error)")
            #expect(error.description.contains(file.sha256), "\(error)")
        }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []).isEmpty)
    }

    /// Bytes garbled in transit (the gzip itself is broken): refused, not cached.
    @Test func garbledGzipIsRejected() throws {
        let file = DatasetDescriptor.mnist.testLabels
        let server = try LocalHTTPServer(serving: try servedCopies([file.name]) { _, data in
            for i in 100..<200 { data[i] ^= 0xA5 }
        })
        let cache = TestPaths.temporaryDirectory("cache")
        #expect(throws: DataError.self) { try DatasetDownloader(mirrors: [server.baseURL]).fetch(file, into: cache) }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cache.path)) ?? []).isEmpty)
    }

    /// A missing file (404) on the first mirror: the next mirror is tried; when
    /// all fail, the error lists what each answered.
    @Test func fallsBackToTheNextMirrorAndReportsEachFailure() throws {
        let file = DatasetDescriptor.mnist.testLabels
        let empty = try LocalHTTPServer(serving: TestPaths.temporaryDirectory("empty"))
        let good = try LocalHTTPServer(serving: try servedCopies([file.name]))
        let cache = TestPaths.temporaryDirectory("cache")
        let path = try DatasetDownloader(mirrors: [empty.baseURL, good.baseURL]).fetch(file, into: cache)
        #expect(FileManager.default.fileExists(atPath: path.path))
        do {
            try DatasetDownloader(mirrors: [empty.baseURL]).fetch(file, into: TestPaths.temporaryDirectory("cache"))
            Issue.record("a 404 must fail")
        } catch let error as DataError {
            #expect(error.description.contains("HTTP status 404"), "\(error)")
            #expect(error.description.contains(empty.baseURL.absoluteString), "\(error)")
        }
    }

    @Test func noDownloadMeansAClearError() throws {
        let locator = DatasetLocator(environment: [:], searchRoots: [], cacheDirectory: TestPaths.temporaryDirectory("cache"),
                                     mirrors: [URL(string: "http://127.0.0.1:1/")!], allowDownload: false)
        #expect { try locator.locate(.mnist) } throws: { error in
            "\(error)".contains("downloading is turned off") && "\(error)".contains("--data")
        }
    }

    @Test func progressBarLine() {
        let line = TerminalProgressBar.line(label: "f.gz", received: 5_000_000, expected: 10_000_000)
        #expect(line.contains(" 50%"))
        #expect(line.contains(String(repeating: "#", count: 15) + String(repeating: "·", count: 15)))
        #expect(line.contains("5.0/10.0 MB"))
        #expect(TerminalProgressBar.line(label: "f.gz", received: 1_500_000, expected: nil) == "f.gz  1.5 MB")
    }
}

/// Records what a download reported.
final class RecordingProgress: DownloadProgress, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var finished: [String] = []
    func update(label: String, received: Int, expected: Int?) {}
    func finish(label: String, received: Int) { lock.lock(); finished.append(label); lock.unlock() }
}

/// The label file with its first label changed, re-gzipped by `gzip` itself.
func labelsWithOneChange(_ gz: Data) throws -> Data {
    let dir = TestPaths.temporaryDirectory("alter")
    let input = dir.appendingPathComponent("in.gz")
    try gz.write(to: input)
    let raw = try run("/bin/sh", ["-c", "zcat '\(input.path)'"])
    var bytes = raw
    bytes[8] = (bytes[8] + 1) % 10
    return bytes
}

func gzipped(_ data: Data) throws -> Data {
    let dir = TestPaths.temporaryDirectory("alter")
    let file = dir.appendingPathComponent("x")
    try data.write(to: file)
    return try run("/bin/sh", ["-c", "gzip -c '\(file.path)'"])
}

func run(_ executable: String, _ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let out = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return out
}
