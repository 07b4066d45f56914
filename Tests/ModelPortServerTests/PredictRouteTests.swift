import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import ModelPortImage
import ModelPortRuntime
@testable import ModelPortServer
import NIOCore
import Testing
import TestSupport

/// `POST /api/predict`: the answer is what `modelport predict` computes for the same image.
struct PredictRouteTests {
    let images = ["3/drawn_3.png", "8/inverse_8.jpg", "5/photo_5.pgm", "0/font_0.png"].map { TestPaths.fixture("images/" + $0) }

    /// The preprocessing and probabilities `modelport predict` computes for an image file.
    func expected(_ path: String) throws -> (pixels: [Float], probabilities: [Float]) {
        let result = try MNISTPreprocessor()(file: path)
        let model = TestServer.registry.models[0].model
        let output = try model.predict(Tensor(shape: [1, 28, 28, 1], scalars: result.image.pixels))
        return (result.image.pixels, Array(output.scalars))
    }

    @Test func aRawImageGetsTheSameAnswerAsModelportPredict() async throws {
        for path in images {
            let bytes = try TestServer.bytes(path)
            let type = path.hasSuffix(".jpg") ? "image/jpeg" : path.hasSuffix(".pgm") ? "image/x-portable-graymap" : "image/png"
            let body = try await TestServer.test { client in
                try await client.execute(uri: "/api/predict", method: .post, headers: [.contentType: type], body: ByteBuffer(bytes: bytes)) {
                    #expect($0.status == .ok, "\(path): \(String(buffer: $0.body))")
                    return try json($0)
                }
            }
            let (pixels, probabilities) = try expected(path)
            let digit = Int(URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent)!
            #expect(body["label"] as? Int == digit, "\(path)")
            let served = (body["probabilities"] as? [Double] ?? []).map(Float.init)
            #expect(served.count == 10)
            for (a, b) in zip(served, probabilities) { #expect(abs(a - b) <= 1e-6, "\(path): \(a) vs \(b)") }
            let rows = body["preprocessed"] as? [[Double]] ?? []
            #expect(rows.count == 28 && rows.allSatisfy { $0.count == 28 })
            for (a, b) in zip(rows.flatMap { $0 }, pixels) { #expect(abs(Float(a) - b) <= 0.0005 + 1e-6) }
            #expect(body["model"] as? String == "mnist_digit_model")
            #expect((body["elapsed_ms"] as? Double ?? -1) >= 0)
        }
    }

    @Test func severalImagesInAFormGiveOnePredictionEach() async throws {
        let files = images.map { (name: "image", filename: URL(fileURLWithPath: $0).lastPathComponent, bytes: try! TestServer.bytes($0)) }
        let (body, type) = multipartBody(files)
        let answer = try await TestServer.test { client in
            try await client.execute(uri: "/api/predict", method: .post, headers: [.contentType: type], body: body) {
                #expect($0.status == .ok, "\(String(buffer: $0.body))")
                return try json($0)
            }
        }
        let predictions = answer["predictions"] as? [[String: Any]] ?? []
        #expect(predictions.map { $0["file"] as? String } == files.map(\.filename))
        #expect(predictions.map { $0["label"] as? Int } == [3, 8, 5, 0])
    }

    @Test func jsonPixelsAreTheModelInputAsTheyAre() async throws {
        let (pixels, probabilities) = try expected(images[0])
        let single = try JSONSerialization.data(withJSONObject: ["pixels": pixels.map(Double.init)])
        let batch = try JSONSerialization.data(withJSONObject: ["pixels": [pixels.map(Double.init), pixels.map(Double.init)]])
        let (one, two) = try await TestServer.test { client in
            let one = try await client.execute(uri: "/api/predict?model=mnist_digit_model", method: .post,
                                               headers: [.contentType: "application/json"], body: ByteBuffer(data: single)) { try json($0) }
            let two = try await client.execute(uri: "/api/predict", method: .post,
                                               headers: [.contentType: "application/json"], body: ByteBuffer(data: batch)) { try json($0) }
            return (one, two)
        }
        #expect(one["label"] as? Int == 3)
        for (a, b) in zip((one["probabilities"] as? [Double] ?? []).map(Float.init), probabilities) { #expect(abs(a - b) <= 1e-6) }
        let predictions = two["predictions"] as? [[String: Any]] ?? []
        #expect(predictions.count == 2 && predictions.allSatisfy { $0["label"] as? Int == 3 })
    }

    /// Many clients at once: every answer right, and they were batched.
    @Test func concurrentRequestsAreAllAnsweredCorrectly() async throws {
        let server = TestServer.make()
        let bytes = try images.map { try TestServer.bytes($0) }
        let labels = try await TestServer.test(server) { client in
            try await withThrowingTaskGroup(of: (Int, Int?).self) { group in
                for k in 0..<64 {
                    group.addTask {
                        let type = k % 4 == 1 ? "image/jpeg" : k % 4 == 2 ? "image/x-portable-graymap" : "image/png"
                        return try await client.execute(uri: "/api/predict", method: .post, headers: [.contentType: type],
                                                        body: ByteBuffer(bytes: bytes[k % 4])) { (k, try json($0)["label"] as? Int) }
                    }
                }
                var labels = [Int?](repeating: nil, count: 64)
                for try await (k, label) in group { labels[k] = label }
                return labels
            }
        }
        #expect(labels == (0..<64).map { [3, 8, 5, 0][$0 % 4] })
    }

    @Test func aNaNOutputHasNoLabel() {
        let p = DigitPrediction(output: [.nan, .nan, .nan], preprocessed: [], inverted: false, file: nil)
        #expect(p.label == -1)
        let q = DigitPrediction(output: [0.1, .nan, 0.7, 0.2], preprocessed: [], inverted: false, file: nil)
        #expect(q.label == 2)
    }
}
