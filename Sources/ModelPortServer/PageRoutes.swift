import Foundation
import Hummingbird
import NIOCore

/// The pages and their assets, compiled into the binary (no CDN, no files to find at run time).
extension ModelServer {
    struct Asset {
        let bytes: [UInt8]
        let contentType: String
    }

    static let assets: [String: Asset] = [
        "index.html": Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "models.html": Asset(bytes: PackageResources.models_html, contentType: "text/html; charset=utf-8"),
        "app.css": Asset(bytes: PackageResources.app_css, contentType: "text/css; charset=utf-8"),
        "common.js": Asset(bytes: PackageResources.common_js, contentType: "text/javascript; charset=utf-8"),
        "digit.js": Asset(bytes: PackageResources.digit_js, contentType: "text/javascript; charset=utf-8"),
        "models.js": Asset(bytes: PackageResources.models_js, contentType: "text/javascript; charset=utf-8"),
        "icon.svg": Asset(bytes: PackageResources.icon_svg, contentType: "image/svg+xml"),
        "openapi.json": Asset(bytes: PackageResources.openapi_json, contentType: "application/json; charset=utf-8"),
    ]

    static func serve(_ name: String) throws -> Response {
        guard let asset = assets[name] else { throw APIError(.notFound, "not_found", "no asset named '\(name)'") }
        return Response(status: .ok,
                        headers: [.contentType: asset.contentType, .cacheControl: "no-cache",
                                  .init("X-Content-Type-Options")!: "nosniff"],
                        body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }

    func addPageRoutes(to router: Router<BasicRequestContext>) {
        router.get("/") { _, _ in try ModelServer.serve("index.html") }
        router.get("/models") { _, _ in try ModelServer.serve("models.html") }
        router.get("/assets/:name") { _, context in try ModelServer.serve(context.parameters.require("name")) }
        router.get("/favicon.ico") { _, _ in try ModelServer.serve("icon.svg") }
        router.get("/openapi.json") { _, _ in try ModelServer.serve("openapi.json") }
        router.get("/healthz") { [registry] _, _ in
            try ModelServer.json(["status": "ok", "models": registry.models.count])
        }
        router.get("/api/server") { [configuration, registry] _, _ in
            try ModelServer.json([
                "uploads_allowed": configuration.allowUploads,
                "max_body_bytes": configuration.maxBodyBytes,
                "max_upload_bytes": configuration.maxUploadBytes,
                "max_pixels": configuration.maxPixels,
                "max_images_per_request": configuration.maxImagesPerRequest,
                "default_model": registry.models.first?.id as Any,
            ])
        }
    }
}
