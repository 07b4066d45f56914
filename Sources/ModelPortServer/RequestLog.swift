import Foundation
import Hummingbird
import Logging

/// One log line per request: method, path, status and time taken.
struct RequestLogMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func log(_ status: HTTPResponse.Status) {
            let ms = (ContinuousClock.now - start) / .milliseconds(1)
            context.logger.info("\(request.method) \(request.uri.path) \(status.code) \(String(format: "%.1f", ms)) ms")
        }
        do {
            let response = try await next(request, context)
            log(response.status)
            return response
        } catch let error as any HTTPResponseError {
            log(error.status)
            throw error
        } catch {
            log(.internalServerError)
            throw error
        }
    }
}
