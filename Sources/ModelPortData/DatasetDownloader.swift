import Crypto
import Foundation
import ModelPortFiles
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Fetches dataset files over HTTP(S) into a cache directory, verifying each
/// against its SHA-256 before it is given its final name. A file that fails
/// verification never appears in the cache.
public struct DatasetDownloader: Sendable {
    /// Base URLs tried in order for each file (the file's URL is base + `name.gz`).
    public var mirrors: [URL]
    /// Seconds without progress before a transfer is abandoned.
    public var timeout: TimeInterval = 60
    /// Where progress goes; `nil` for silence.
    public var progress: DownloadProgress?

    public init(mirrors: [URL], progress: DownloadProgress? = nil) {
        self.mirrors = mirrors
        self.progress = progress
    }

    /// Downloads `file` as `<directory>/<name>.gz`, trying each mirror in turn.
    /// - Returns: the path of the verified file.
    /// - Throws: `DataError` naming the file with what every mirror answered
    ///   (HTTP status, network error, corrupt gzip or SHA-256 mismatch).
    @discardableResult
    public func fetch(_ file: DatasetFile, into directory: URL) throws -> URL {
        let destination = directory.appendingPathComponent(file.name + ".gz")
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw DataError(directory.path, "cannot create the download cache directory (\(error.localizedDescription))")
        }
        guard !mirrors.isEmpty else { throw DataError(destination.path, "no download mirrors configured") }
        var failures: [String] = []
        for mirror in mirrors {
            let url = mirror.appendingPathComponent(file.name + ".gz")
            do {
                // Downloaded beside the destination and renamed into place once verified.
                try AtomicFile.write(to: destination.path) { partial in
                    // A gzip of an IDX file is smaller than the file; allow headroom for odd compressors.
                    try HTTPTransfer(url: url, to: URL(fileURLWithPath: partial), maxBytes: file.size + (1 << 20), timeout: timeout,
                                     label: file.name + ".gz", progress: progress).run()
                    try verify(URL(fileURLWithPath: partial), as: file, from: url)
                }
                return destination
            } catch let error as DataError {
                failures.append("\(url.absoluteString): \(error.message)")
            } catch let error as FileError {
                throw DataError(destination.path, error.message)
            } catch {
                failures.append("\(url.absoluteString): \(error.localizedDescription)")
            }
        }
        throw DataError(destination.path, "could not download \(file.name).gz:\n  " + failures.joined(separator: "\n  "))
    }

    /// Decompresses (bounded by the expected size) and checks the SHA-256.
    func verify(_ path: URL, as file: DatasetFile, from url: URL) throws {
        let data: Data
        do { data = try InputFile.read(path.path, maxBytes: file.size + (1 << 20)) } catch {
            throw DataError(path.path, "downloaded file cannot be read: \(error.message)")
        }
        let content = Gzip.isGzip(data) ? Data(try Gzip.decompress(data, limit: file.size, path: url.absoluteString)) : data
        let digest = SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined()
        guard digest == file.sha256 else {
            throw DataError(url.absoluteString, "SHA-256 mismatch: expected \(file.sha256), got \(digest) (\(content.count) bytes); the download is corrupt or not the original file, and was discarded")
        }
    }
}

/// Receives byte counts while a file downloads.
public protocol DownloadProgress: Sendable {
    func update(label: String, received: Int, expected: Int?)
    func finish(label: String, received: Int)
}

/// A one-line progress bar redrawn in place on standard error; prints nothing
/// unless standard error is a terminal (so logs and pipes stay clean).
public final class TerminalProgressBar: DownloadProgress, @unchecked Sendable {
    private let lock = NSLock()
    private var lastDraw = Date.distantPast
    private let enabled: Bool

    public init(force: Bool = false) { enabled = force || isatty(2) != 0 }

    public func update(label: String, received: Int, expected: Int?) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        guard Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        draw(Self.line(label: label, received: received, expected: expected) + "\r")
    }

    public func finish(label: String, received: Int) {
        guard enabled else { return }
        lock.lock(); defer { lock.unlock() }
        draw(Self.line(label: label, received: received, expected: received) + "\n")
    }

    /// `train-images-idx3-ubyte.gz  [##########··········]  52%  5.0/9.6 MB`
    public static func line(label: String, received: Int, expected: Int?) -> String {
        let mb = { (n: Int) in String(format: "%.1f", Double(n) / 1_000_000) }
        guard let expected, expected > 0 else { return "\(label)  \(mb(received)) MB" }
        let fraction = min(1, Double(received) / Double(expected))
        let filled = Int(fraction * 30)
        let bar = String(repeating: "#", count: filled) + String(repeating: "·", count: 30 - filled)
        return "\(label)  [\(bar)] \(String(format: "%3d", Int(fraction * 100)))%  \(mb(received))/\(mb(expected)) MB"
    }

    private func draw(_ text: String) {
        FileHandle.standardError.write(Data(("\u{1B}[2K" + text).utf8))
    }
}

/// One HTTP GET streamed to a file, waited for synchronously.
private final class HTTPTransfer: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let url: URL, destination: URL, maxBytes: Int, timeout: TimeInterval, label: String
    let progress: DownloadProgress?
    private let done = DispatchSemaphore(value: 0)
    // Touched only on the session's serial delegate queue until `done` is signalled.
    private var handle: FileHandle?
    private var received = 0
    private var expected: Int?
    private var failure: String?

    init(url: URL, to destination: URL, maxBytes: Int, timeout: TimeInterval, label: String, progress: DownloadProgress?) {
        self.url = url; self.destination = destination; self.maxBytes = maxBytes
        self.timeout = timeout; self.label = label; self.progress = progress
    }

    func run() throws {
        guard FileManager.default.createFile(atPath: destination.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: destination.path) else {
            throw DataError(destination.path, "cannot create a file to download into")
        }
        self.handle = handle
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = timeout
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        let session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
        session.dataTask(with: url).resume()
        done.wait()
        session.finishTasksAndInvalidate()
        try? handle.close()
        if let failure { throw DataError(url.absoluteString, failure) }
        progress?.finish(label: label, received: received)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        if let http = response as? HTTPURLResponse, http.statusCode != 200 {
            failure = "HTTP status \(http.statusCode)"
            completionHandler(.cancel)
            return
        }
        if response.expectedContentLength > Int64(maxBytes) {
            failure = "the server announces \(response.expectedContentLength) bytes, more than the \(maxBytes) this file can be"
            completionHandler(.cancel)
            return
        }
        expected = response.expectedContentLength > 0 ? Int(response.expectedContentLength) : nil
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard failure == nil else { return }
        received += data.count
        if received > maxBytes {
            failure = "the server sent more than \(maxBytes) bytes, more than this file can be"
            dataTask.cancel()
            return
        }
        do { try handle?.write(contentsOf: data) } catch {
            failure = "cannot write \(destination.path): \(error.localizedDescription)"
            dataTask.cancel()
            return
        }
        progress?.update(label: label, received: received, expected: expected)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        if failure == nil, let error { failure = error.localizedDescription }
        if failure == nil, let expected, received != expected {
            failure = "the transfer ended after \(received) of \(expected) bytes"
        }
        done.signal()
    }
}
