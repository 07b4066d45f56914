/// `x0 + scale * x1` of two equally shaped inputs: the scaled residual of
/// InceptionResNetV2's blocks (Keras `CustomScaleLayer(scale)`).
public final class ScaledSum: MergeLayer, @unchecked Sendable {
    public let name: String
    public let scale: Float
    public var typeName: String { "CustomScaleLayer" }

    public init(name: String, scale: Float) {
        self.name = name
        self.scale = scale
    }

    public func outputShape(forInputs shapes: [[Int]]) throws -> [Int] {
        guard shapes.count == 2 else { throw RuntimeError("needs exactly 2 inputs, got \(shapes.count)") }
        guard shapes[0] == shapes[1] else { throw RuntimeError("inputs must have equal shapes, got \(shapes)") }
        return shapes[0]
    }

    public func forward(inputs: [Tensor]) -> Tensor {
        precondition(inputs.count == 2 && inputs[0].shape == inputs[1].shape, "\(name): input shapes \(inputs.map(\.shape))")
        var output = inputs[0]
        let residual = inputs[1].scalars
        for i in 0..<output.count { output.scalars[i] += scale * residual[i] }
        return output
    }
}

// MARK: - Training

extension ScaledSum: TrainableMergeLayer {
    public struct Cache: LayerCache {}

    public func forward(inputs: [Tensor], context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(inputs: inputs), Cache())
    }

    /// dx0 = dY, dx1 = scale · dY.
    public func backward(inputsGradient dy: Tensor, cache: any LayerCache, gradients: Gradients) -> [Tensor] {
        var scaled = dy
        for i in 0..<scaled.count { scaled.scalars[i] *= scale }
        return [dy, scaled]
    }
}
