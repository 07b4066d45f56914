import Foundation
import Hummingbird
import NIOCore

/// An error answered as JSON `{"error": ..., "detail": ...}` with a 4xx/5xx
/// status: `error` is a short stable code for programs, `detail` a sentence
/// for people.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let detail: String

    public init(_ status: HTTPResponse.Status, _ code: String, _ detail: String) {
        self.status = status
        self.code = code
        self.detail = detail
    }

    public var headers: HTTPFields { [.contentType: "application/json; charset=utf-8"] }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    /// The JSON body.
    var body: Data {
        (try? JSONSerialization.data(withJSONObject: ["error": code, "detail": detail], options: [.sortedKeys])) ?? Data()
    }

    static func badRequest(_ code: String, _ detail: String) -> APIError { APIError(.badRequest, code, detail) }
}

/// Turns every error a route throws into an `APIError`, so each failure,
/// including Hummingbird's own (unknown route, body too large), is JSON.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "body_too_large", "the request body is larger than the server accepts (\(maxBodyBytes) bytes)")
        } catch let error as HTTPError {
            switch error.status {
            case .notFound: throw APIError(.notFound, "not_found", "no such page or endpoint: \(request.method) \(request.uri.path)")
            case .methodNotAllowed: throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.method) is not allowed on \(request.uri.path)")
            default: throw APIError(error.status, "http_error", error.body ?? error.status.reasonPhrase)
            }
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, "http_error", error.status.reasonPhrase)
        } catch {
            context.logger.error("internal error on \(request.uri.path): \(error)")
            throw APIError(.internalServerError, "internal_error", "\(error)")
        }
    }
}
