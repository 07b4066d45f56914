import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ModelPortImage
@testable import ModelPortServer
import NIOCore
import Testing
import TestSupport

/// Every bad request is a JSON `{error, detail}` with the right 4xx status.
struct ErrorRouteTests {
    struct Case: Sendable {
        let what: String
        let uri: String
        var method: HTTPRequest.Method = .post
        var contentType: String?
        var body: [UInt8]?
        let status: HTTPResponse.Status
        let code: String
    }

    /// A PNG whose header declares `width` x `height` pixels (a decompression bomb's header).
    static func pngHeader(width: UInt32, height: UInt32) -> [UInt8] {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13] + Array("IHDR".utf8)
        for v in [width, height] { bytes += withUnsafeBytes(of: v.bigEndian, Array.init) }
        bytes += [8, 0, 0, 0, 0, 0, 0, 0, 0]  // depth, colour, compression, filter, interlace, (CRC not checked first)
        return bytes + Array(repeating: 0, count: 64)
    }

    static func cases() throws -> [Case] {
        let png = try TestServer.bytes(TestPaths.fixture("images/3/drawn_3.png"))
        let (textForm, formType) = multipartBody([(name: "image", filename: "notes.png", bytes: Array("my notes\n".utf8))])
        // A form with a text field and no file.
        let emptyType = "multipart/form-data; boundary=b0"
        let emptyForm = ByteBuffer(string: "--b0\r\nContent-Disposition: form-data; name=\"comment\"\r\n\r\nhello\r\n--b0--\r\n")
        let json = "application/json"
        let nanPixels = Array(("{\"pixels\": [" + Array(repeating: "0", count: 783).joined(separator: ",") + ",NaN]}").utf8)
        let stringNaN = Array(("{\"pixels\": [" + Array(repeating: "0", count: 783).joined(separator: ",") + ",\"NaN\"]}").utf8)
        return [
            Case(what: "truncated PNG", uri: "/api/predict", contentType: "image/png", body: Array(png.prefix(png.count / 2)), status: .badRequest, code: "unreadable_image"),
            Case(what: "text named .png", uri: "/api/predict", contentType: formType, body: Array(textForm.readableBytesView), status: .badRequest, code: "unreadable_image"),
            Case(what: "text sent as image/png", uri: "/api/predict", contentType: "image/png", body: Array("hello".utf8), status: .badRequest, code: "unreadable_image"),
            Case(what: "100000x100000 PNG header", uri: "/api/predict", contentType: "image/png", body: pngHeader(width: 100_000, height: 100_000), status: .contentTooLarge, code: "image_too_large"),
            Case(what: "5000x5000 PNG over a 1 MP limit", uri: "/api/predict", contentType: "image/png", body: pngHeader(width: 5000, height: 5000), status: .contentTooLarge, code: "image_too_large"),
            Case(what: "empty body", uri: "/api/predict", contentType: "image/png", body: [], status: .badRequest, code: "empty_body"),
            Case(what: "form without a file", uri: "/api/predict", contentType: emptyType, body: Array(emptyForm.readableBytesView), status: .badRequest, code: "no_image"),
            Case(what: "multipart without boundary", uri: "/api/predict", contentType: "multipart/form-data", body: Array("x".utf8), status: .badRequest, code: "malformed_multipart"),
            Case(what: "no content type", uri: "/api/predict", body: png, status: .unsupportedMediaType, code: "unsupported_content_type"),
            Case(what: "text/plain", uri: "/api/predict", contentType: "text/plain", body: png, status: .unsupportedMediaType, code: "unsupported_content_type"),
            Case(what: "unknown model", uri: "/api/predict?model=nope", contentType: "image/png", body: png, status: .notFound, code: "unknown_model"),
            Case(what: "malformed JSON", uri: "/api/predict", contentType: json, body: Array("{\"pixels\": [1, 2".utf8), status: .badRequest, code: "malformed_json"),
            Case(what: "JSON without pixels", uri: "/api/predict", contentType: json, body: Array("{\"image\": 1}".utf8), status: .badRequest, code: "malformed_json"),
            Case(what: "783 pixels", uri: "/api/predict", contentType: json, body: Array(("{\"pixels\": [" + Array(repeating: "0", count: 783).joined(separator: ",") + "]}").utf8), status: .badRequest, code: "wrong_pixel_count"),
            Case(what: "NaN literal in pixels", uri: "/api/predict", contentType: json, body: nanPixels, status: .badRequest, code: "nan_in_pixels"),
            Case(what: "\"NaN\" string in pixels", uri: "/api/predict", contentType: json, body: stringNaN, status: .badRequest, code: "nan_in_pixels"),
            Case(what: "pixel over 1", uri: "/api/predict", contentType: json, body: Array(("{\"pixels\": [" + Array(repeating: "0", count: 783).joined(separator: ",") + ",255]}").utf8), status: .badRequest, code: "pixel_out_of_range"),
            Case(what: "unknown route", uri: "/api/nothing", method: .get, status: .notFound, code: "not_found"),
            Case(what: "unknown model inspect", uri: "/api/models/nope", method: .get, status: .notFound, code: "unknown_model"),
            Case(what: "no reference to validate", uri: "/api/models/mlp_alone/validate", status: .notFound, code: "no_reference"),
            Case(what: "bad conversion target", uri: "/api/models/mnist_digit_model/convert?to=tflite", method: .get, status: .badRequest, code: "bad_target"),
            Case(what: "bad keras version", uri: "/api/models/mnist_digit_model/convert?to=h5&keras_version=4", method: .get, status: .badRequest, code: "bad_target"),
            Case(what: "uploads without --allow-uploads", uri: "/api/uploads/inspect", contentType: formType, body: Array(textForm.readableBytesView), status: .forbidden, code: "uploads_disabled"),
        ]
    }

    @Test func everyBadRequestIsAJSONError() async throws {
        let server = TestServer.make { $0.maxPixels = 1_000_000 }
        let cases = try Self.cases()
        try await TestServer.test(server) { client in
            for c in cases {
                var headers: HTTPFields = [:]
                if let type = c.contentType { headers[.contentType] = type }
                try await client.execute(uri: c.uri, method: c.method, headers: headers, body: c.body.map { ByteBuffer(bytes: $0) }) { response in
                    #expect(response.status == c.status, "\(c.what): \(String(buffer: response.body))")
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true, "\(c.what)")
                    let body = try json(response)
                    #expect(body["error"] as? String == c.code, "\(c.what): \(body)")
                    #expect((body["detail"] as? String)?.isEmpty == false, "\(c.what)")
                    #expect(!((body["detail"] as? String) ?? "").contains("ModelPort"), "\(c.what): no type names")
                }
            }
        }
    }

    /// A body over the limit is refused whether or not it declares its length.
    @Test func bodiesOverTheLimitAre413() async throws {
        let server = TestServer.make { $0.maxBodyBytes = 1000 }
        try await TestServer.test(server) { client in
            let big = ByteBuffer(bytes: [UInt8](repeating: 0, count: 5000))
            try await client.execute(uri: "/api/predict", method: .post, headers: [.contentType: "image/png"], body: big) { response in
                #expect(response.status == .contentTooLarge)
                let code = try json(response)["error"] as? String
                #expect(code == "body_too_large")
            }
            try await client.execute(uri: "/api/predict", method: .post,
                                     headers: [.contentType: "image/png", .contentLength: "5000"], body: big) { response in
                #expect(response.status == .contentTooLarge)
                let code = try json(response)["error"] as? String
                #expect(code == "body_too_large")
            }
        }
    }

    @Test func imageHeadersGiveTheDecodedSize() throws {
        for path in ["images/3/drawn_3.png", "images/8/inverse_8.jpg", "images/5/photo_5.pgm", "images/6/odd_6.jpg"] {
            let bytes = try TestServer.bytes(TestPaths.fixture(path))
            let image = try ImageFile.decode(bytes, path: path)
            let size = ImageDimensions.of(bytes)
            #expect(size?.width == image.width && size?.height == image.height, "\(path): \(String(describing: size))")
        }
        #expect(ImageDimensions.of(Self.pngHeader(width: 100_000, height: 7)).map { [$0.width, $0.height] } == [100_000, 7])
    }

    @Test func multipartPartsAreSplitExactly() throws {
        let payload: [UInt8] = [0, 13, 10, 45, 45, 255, 13, 10]  // CRLF and "--" inside a file's bytes
        let (body, type) = multipartBody([(name: "image", filename: "a.bin", bytes: payload), (name: "reference", filename: "b.h5", bytes: [1, 2, 3])])
        let form = try Multipart(body: Array(body.readableBytesView), contentType: type)
        #expect(form.parts.count == 2)
        #expect(Array(form.part("image")?.data ?? []) == payload)
        #expect(form.part("image")?.filename == "a.bin")
        #expect(Array(form.part("reference")?.data ?? []) == [1, 2, 3])
    }

    @Test func uploadedNamesNeverBecomePaths() {
        #expect(ModelServer.safeName("../../etc/passwd") == "passwd")
        #expect(ModelServer.safeName("..") == "upload")
        #expect(ModelServer.safeName("my model (1).h5") == "my_model__1_.h5")
    }
}
