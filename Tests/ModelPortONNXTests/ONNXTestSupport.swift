import Foundation
import ModelPortONNX
import ModelPortRuntime
import TestSupport

/// Serializes and re-parses an exported model, as a file round trip would.
func roundTrip(_ proto: ONNXModelProto) throws -> ONNXModelProto {
    try ONNXImporter.decode(ONNXExporter.serialize(proto))
}

/// Predictions of `model` for `inputs`, batched.
func predictions(_ model: any Model, _ inputs: Tensor) throws -> Tensor {
    try model.predict(inputs)
}

/// The tf2onnx conversions committed by tools/make_onnx_fixtures.py.
func tf2onnxPath(_ fixture: Fixture) -> String {
    TestPaths.fixture("onnx/\(fixture.stem).tf2onnx.onnx")
}
