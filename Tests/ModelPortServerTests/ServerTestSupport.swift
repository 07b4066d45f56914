import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import ModelPortServer
import NIOCore
import TestSupport

/// A server over the committed fixtures, driven through Hummingbird's router test client.
enum TestServer {
    static let registry: ModelRegistry = {
        // A copy of the MLP in a directory of its own has no reference file beside it.
        let alone = TestPaths.temporaryDirectory("servertest-registry").appendingPathComponent("mlp_alone.h5")
        try! FileManager.default.copyItem(at: URL(fileURLWithPath: TestPaths.fixture("mnist_mlp.h5")), to: alone)
        return try! ModelRegistry.load([TestPaths.fixture("mnist_digit_model.h5"), TestPaths.fixture("coverage/cov_residual.keras"), alone.path])
    }()

    static func make(_ adjust: (inout ServerConfiguration) -> Void = { _ in }) -> ModelServer {
        var configuration = ServerConfiguration()
        adjust(&configuration)
        return ModelServer(configuration: configuration, registry: registry)
    }

    /// Runs `body` with a client of `server`'s routes.
    static func test<T: Sendable>(_ server: ModelServer = make(), _ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        var logger = Logger(label: "serve-tests")
        logger.logLevel = .warning
        let app = Application(router: server.router(), logger: logger)
        return try await app.test(.router) { client in try await body(client) }
    }

    static func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
}

/// A JSON object from a response, handed out of the test client's closures.
struct JSONBody: @unchecked Sendable, CustomStringConvertible {
    let dictionary: [String: Any]
    subscript(_ key: String) -> Any? { dictionary[key] }
    var description: String { "\(dictionary)" }
}

/// A response's body as JSON.
func json(_ response: TestResponse) throws -> JSONBody {
    let object = try JSONSerialization.jsonObject(with: Data(buffer: response.body))
    guard let dictionary = object as? [String: Any] else { throw TestFailure("not a JSON object: \(object)") }
    return JSONBody(dictionary: dictionary)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A multipart/form-data body of files.
func multipartBody(_ files: [(name: String, filename: String, bytes: [UInt8])]) -> (ByteBuffer, String) {
    let boundary = "test-boundary-3f9a"
    var out: [UInt8] = []
    for file in files {
        out += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n".utf8)
        out += file.bytes + Array("\r\n".utf8)
    }
    out += Array("--\(boundary)--\r\n".utf8)
    return (ByteBuffer(bytes: out), "multipart/form-data; boundary=\(boundary)")
}
