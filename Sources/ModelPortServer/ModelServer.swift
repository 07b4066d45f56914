import Foundation
import Hummingbird
import Logging
import NIOCore

/// `modelport serve`: the digit page, the model workbench and the JSON API
/// over HTTP, on Hummingbird.
public final class ModelServer: Sendable {
    public let configuration: ServerConfiguration
    public let registry: ModelRegistry
    let worker: ComputeWorker
    let uploads: UploadArea

    public init(configuration: ServerConfiguration, registry: ModelRegistry) {
        self.configuration = configuration
        self.registry = registry
        worker = ComputeWorker(maxBatch: max(1, configuration.maxBatch))
        uploads = UploadArea()
    }

    deinit { worker.stop() }

    /// The routes, with JSON errors and one log line per request.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: RequestLogMiddleware())
        router.add(middleware: JSONErrorMiddleware(maxBodyBytes: configuration.maxBodyBytes))
        addPageRoutes(to: router)
        addPredictRoutes(to: router)
        addModelRoutes(to: router)
        addUploadRoutes(to: router)
        return router
    }

    /// An application listening on the configured host and port; `onStart`
    /// gets the URL once it is listening (the port is known then, even for 0).
    public func application(logger: Logger, onStart: @escaping @Sendable (String) -> Void = { _ in })
        -> some ApplicationProtocol {
        let host = configuration.host
        return Application(
            router: router(),
            configuration: .init(address: .hostname(host, port: configuration.port), serverName: "modelport"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                let shown = host.contains(":") ? "[\(host)]" : host
                onStart("http://\(shown):\(port)/")
            },
            logger: logger)
    }

    /// Serves until SIGINT or SIGTERM; requests in flight then finish before it returns.
    public func run(logger: Logger, onStart: @escaping @Sendable (String) -> Void) async throws {
        try await application(logger: logger, onStart: onStart).runService()
        worker.stop()
    }
}

// MARK: - Responses

extension ModelServer {
    /// A JSON response (NaN and infinities must already be replaced: JSON has no such numbers).
    static func json(_ object: Any, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(data: data)))
    }

    /// Milliseconds since `start`.
    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start) / .microseconds(1) / 1000
    }

    /// Reads the whole body, refusing it as soon as it passes `limit` bytes
    /// (a declared Content-Length over the limit is refused before reading).
    static func body(of request: Request, limit: Int) async throws -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError(.contentTooLarge, "body_too_large", "the request body (\(declared) bytes) is larger than this endpoint accepts (\(limit) bytes)")
        }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: limit)
            return Array(buffer.readableBytesView)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than this endpoint accepts (\(limit) bytes)")
        }
    }

    /// The media type of a request without its parameters, lowercased.
    static func mediaType(_ request: Request) -> String {
        let value = request.headers[.contentType] ?? ""
        return value.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
    }
}
