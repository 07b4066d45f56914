import Foundation
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime
import Testing
import TestSupport

/// A layer with no ONNX (or Keras) form, for refusals.
final class Unexportable: Layer, @unchecked Sendable {
    let name = "mystery"
    var typeName: String { "Mystery" }
    func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }
    func forward(_ input: Tensor) -> Tensor { input }
}

/// A failing export names the problem and leaves an existing output file
/// exactly as it was, with no temporary file left behind.
struct FailedExportTests {
    static func model() throws -> Sequential {
        try Sequential(name: "m", inputShape: [4], layers: [Dense(name: "d", inputUnits: 4, units: 2), Unexportable()])
    }

    @Test func unsupportedLayerLeavesTheOldFile() throws {
        let dir = TestPaths.temporaryDirectory("onnx-fail")
        let path = dir.appendingPathComponent("out.onnx").path
        let before = Data("previous contents".utf8)
        FileManager.default.createFile(atPath: path, contents: before)
        let error = #expect(throws: ONNXError.self) { try ONNXExporter.write(try Self.model(), to: path) }
        #expect(error?.description.contains("layer type 'Mystery' cannot be exported to ONNX") == true)
        #expect(error?.description.hasPrefix(path) == true)
        #expect(FileManager.default.contents(atPath: path) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["out.onnx"])
    }

    @Test func unwritableDirectoryIsNamed() throws {
        let keras = try ModelLoader.load(Fixture.all[0].modelPath)
        let path = "/nonexistent-modelport-dir/out.onnx"
        let error = #expect(throws: ONNXError.self) { try ONNXExporter.write(keras.model, to: path) }
        #expect(error?.description == "\(path): cannot write: directory '/nonexistent-modelport-dir' does not exist")
    }

    @Test func convertCommandKeepsTheOldFileAndExitsNonZero() throws {
        let dir = TestPaths.temporaryDirectory("convert-fail")
        let out = dir.appendingPathComponent("model.keras").path
        let before = Data("keep me".utf8)
        FileManager.default.createFile(atPath: out, contents: before)
        // Keras 2's hard_sigmoid cannot be written for Keras 3.
        let source = TestPaths.fixture("coverage/cov_residual_keras2.h5")
        let result = try TestPaths.runModelPort(["convert", source, out])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(out): layer 'branch_3x3' (Conv2D): Keras 2's hard_sigmoid"), "\(result.stderr)")
        #expect(FileManager.default.contents(atPath: out) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.keras"])
        let missingDir = try TestPaths.runModelPort(["convert", Fixture.all[0].modelPath, "/nonexistent-modelport-dir/x.onnx"])
        #expect(missingDir.status == 2)
        #expect(missingDir.stderr.contains("does not exist"))
    }

    @Test func convertVerifiesByDefault() throws {
        let dir = TestPaths.temporaryDirectory("convert-ok")
        let fixture = Fixture.all.first { $0.stem == "mnist_conv_pair" }!
        let out = dir.appendingPathComponent("pair.onnx").path
        let result = try TestPaths.runModelPort(["convert", fixture.modelPath, out, "--reference", fixture.referencePath, "--opset", "13"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Verified on 200 reference samples"))
        #expect(result.stdout.contains("PASSED"))
        let inspect = try TestPaths.runModelPort(["inspect", out])
        #expect(inspect.stdout.contains("ONNX (.onnx), opset 13"))
        let validate = try TestPaths.runModelPort(["validate", out, "--reference", fixture.referencePath])
        #expect(validate.status == 0)
        #expect(validate.stdout.contains("PASSED"))
    }
}
