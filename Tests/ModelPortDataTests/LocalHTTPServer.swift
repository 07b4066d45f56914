import Foundation
import TestSupport

/// `python3 -m http.server` bound to 127.0.0.1 on a free port, serving a
/// temporary directory; stopped when released. Downloads are tested against
/// it: tests never contact any address but loopback.
final class LocalHTTPServer {
    let directory: URL
    let port: Int
    private let process = Process()

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)/")! }

    init(serving directory: URL) throws {
        self.directory = directory
        // A port the kernel says is free right now.
        port = try Self.freePort()
        // Debian's python3 (tools/setup.sh's machine); no shims in between.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until it accepts connections (at most 15 s).
        let deadline = Date().addingTimeInterval(15)
        while !Self.accepts(port) {
            guard Date() < deadline, process.isRunning else {
                process.terminate()
                throw TestFailure("the local HTTP server on port \(port) did not start")
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
    }

    deinit {
        // SIGKILL: the test process may hand its children a signal mask in
        // which SIGTERM (Process.terminate) is blocked.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}
