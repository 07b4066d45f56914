import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ModelPortFormats
@testable import ModelPortServer
import NIOCore
import Testing
import TestSupport

/// The workbench API: inspect, validate, convert.
struct ModelRouteTests {
    @Test func modelsAreListedAndInspected() async throws {
        let (list, details) = try await TestServer.test { client in
            let list = try await client.execute(uri: "/api/models", method: .get) { try json($0) }
            let details = try await client.execute(uri: "/api/models/cov_residual", method: .get) { try json($0) }
            return (list, details)
        }
        let models = list["models"] as? [[String: Any]] ?? []
        #expect(models.map { $0["id"] as? String } == ["mnist_digit_model", "cov_residual", "mlp_alone"])
        #expect(models.first?["has_reference"] as? Bool == true)
        #expect(models.first?["digits"] as? Bool == true)
        let model = TestServer.registry.models[1].model
        let layers = details["layers"] as? [[String: Any]] ?? []
        #expect(layers.map { $0["name"] as? String } == model.summary.map(\.name))
        #expect(layers.map { $0["inbound"] as? [String] } == model.summary.map(\.inbound))
        #expect(details["model_class"] as? String == "Functional")
        #expect(layers.contains { ($0["inbound"] as? [String] ?? []).count == 2 }, "a residual model has a layer with two inputs")
        #expect(models.last?["has_reference"] as? Bool == false)
        #expect(details["total_parameters"] as? Int == model.parameterCount)
        #expect(details["keras_version"] as? String == TestServer.registry.models[1].file.kerasVersion)
    }

    @Test func validationRunsTheReferenceBesideTheModel() async throws {
        let report = try await TestServer.test { client in
            try await client.execute(uri: "/api/models/mnist_digit_model/validate", method: .post) {
                #expect($0.status == .ok, "\(String(buffer: $0.body))")
                return try json($0)
            }
        }
        #expect(report["passed"] as? Bool == true, "\(report)")
        #expect(report["samples"] as? Int == 200)
        #expect(report["reference"] as? String == "mnist_digit_model.reference.h5")
    }

    /// Each download is the converted model, verified; read back, it computes what the source does.
    @Test func conversionsDownloadVerifiedFiles() async throws {
        for (query, ext) in [("to=onnx", "onnx"), ("to=keras", "keras"), ("to=h5&keras_version=2", "h5")] {
            let (bytes, verification, disposition) = try await TestServer.test { client in
                try await client.execute(uri: "/api/models/mnist_digit_model/convert?\(query)", method: .get) { response in
                    #expect(response.status == .ok, "\(query): \(String(buffer: response.body))")
                    let header = response.headers[HTTPField.Name("X-ModelPort-Verification")!] ?? "{}"
                    return (Array(response.body.readableBytesView), header, response.headers[.contentDisposition] ?? "")
                }
            }
            let summary = try JSONSerialization.jsonObject(with: Data(verification.utf8)) as? [String: Any] ?? [:]
            #expect(summary["passed"] as? Bool == true, "\(query): \(summary)")
            #expect((summary["inputs"] as? String)?.contains("200 reference samples") == true, "\(summary)")
            #expect(disposition.contains(".\(ext)\""), "\(disposition)")
            let directory = TestPaths.temporaryDirectory("servertest-convert")
            let path = directory.appendingPathComponent("converted.\(ext)").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let converted = try AnyModelFile.loadTrusted(path)
            let source = TestServer.registry.models[0].model
            let x = ModelConversion.generatedInputs([4] + source.inputShape, seed: 9)
            let a = try converted.model.predict(x).scalars, b = try source.predict(x).scalars
            #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 }, "\(query)")
            if query.contains("keras_version=2") { #expect(converted.kerasVersion?.hasPrefix("2.") == true) }
        }
    }

    @Test func pagesAndTheirAssetsAreServed() async throws {
        try await TestServer.test { client in
            for (uri, type) in [("/", "text/html"), ("/models", "text/html"), ("/assets/app.css", "text/css"),
                                ("/assets/digit.js", "text/javascript"), ("/assets/models.js", "text/javascript"),
                                ("/assets/common.js", "text/javascript"), ("/openapi.json", "application/json"), ("/healthz", "application/json")] {
                try await client.execute(uri: uri, method: .get) { response in
                    #expect(response.status == .ok, "\(uri)")
                    #expect(response.headers[.contentType]?.hasPrefix(type) == true, "\(uri)")
                    #expect(response.body.readableBytes > 10, "\(uri)")
                }
            }
            // Every script and stylesheet a page names is served (nothing from a CDN).
            for page in ["/", "/models"] {
                let html = try await client.execute(uri: page, method: .get) { String(buffer: $0.body) }
                let links = html.matches(of: /(?:src|href)="([^"]+)"/).map { String($0.1) }
                #expect(links.allSatisfy { $0.hasPrefix("/") || $0.hasPrefix("#") }, "\(page): \(links)")
                for link in links where link.hasPrefix("/assets/") {
                    try await client.execute(uri: link, method: .get) { #expect($0.status == .ok, "\(link)") }
                }
            }
            let openapi = try await client.execute(uri: "/openapi.json", method: .get) { try json($0) }
            let paths = (openapi["paths"] as? [String: Any])?.keys.sorted() ?? []
            for path in ["/api/predict", "/api/models", "/api/models/{id}", "/api/models/{id}/validate", "/api/models/{id}/convert", "/healthz"] {
                #expect(paths.contains(path), "\(path) in \(paths)")
            }
        }
    }
}
