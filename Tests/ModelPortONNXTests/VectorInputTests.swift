import Foundation
import ModelPortONNX
import ModelPortRuntime
import Testing

/// A graph input of shape (N) is N samples of one value each (sample shape
/// []): element-wise graphs import; anything that would mix values across
/// the batch axis is refused by name.
struct VectorInputTests {
    typealias T = OldOpsetImportTests

    @Test func elementWiseOperatorsRunOnEachValue() throws {
        let proto = T.model(opset: 13, [], [
            T.node("Sigmoid", ["x"], outputs: ["s"]),
            T.node("Clip", ["s", "low", "high"], outputs: ["c"]),
            T.node("Mul", ["c", "two"]),
        ], [ONNXTensorProto(name: "low", shape: [], floats: [0.3]), ONNXTensorProto(name: "high", shape: [], floats: [0.6]),
            ONNXTensorProto(name: "two", shape: [1], floats: [2])])
        let model = try ONNXImporter.buildModel(roundTrip(proto), file: "vector.onnx")
        #expect(model.inputShape == [])
        let x = Tensor(shape: [5], scalars: [-3, -0.5, 0, 0.25, 4])
        let y = try model.predict(x)
        #expect(y.shape == [5])
        let expected = x.scalars.map { 2 * min(max(1 / (1 + exp(-$0)), 0.3), 0.6) }
        for (a, b) in zip(y.scalars, expected) { #expect(abs(a - b) <= 1e-6) }
    }

    @Test func aConstantAlongTheBatchAxisIsRefused() throws {
        let proto = T.model(opset: 13, [], [T.node("Mul", ["x", "k"])], [ONNXTensorProto(name: "k", shape: [3], floats: [1, 2, 3])])
        let message = T.error(proto)
        #expect(message.contains("broadcasting over the batch axis is not supported"), "\(message)")
    }

    @Test func aScalarInputIsRefused() throws {
        var proto = T.model(opset: 13, [], [T.node("Relu", ["x"])])
        proto.graph.inputs = [ONNXValueInfo(name: "x", elementType: 1, shape: [])]
        let message = T.error(proto)
        #expect(message.contains("needs a shape with a batch axis"), "\(message)")
    }
}
