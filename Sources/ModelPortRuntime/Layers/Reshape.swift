/// Reshapes each sample to `targetShape` (one entry may be -1: inferred), in
/// row-major (NHWC) order, like Keras's `Reshape`.
public final class Reshape: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "Reshape" }
    public let targetShape: [Int]

    public init(name: String, targetShape: [Int]) {
        self.name = name
        self.targetShape = targetShape
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let total = inputShape.reduce(1, *)
        let unknown = targetShape.filter { $0 == -1 }.count
        guard unknown <= 1, targetShape.allSatisfy({ $0 == -1 || $0 > 0 }) else {
            throw RuntimeError("target shape \(targetShape) may hold one -1 and otherwise positive sizes")
        }
        let known = targetShape.filter { $0 != -1 }.reduce(1, *)
        if unknown == 1 {
            guard known > 0, total % known == 0 else {
                throw RuntimeError("cannot reshape \(inputShape) (\(total) elements) to \(targetShape)")
            }
        } else {
            guard known == total else { throw RuntimeError("cannot reshape \(inputShape) (\(total) elements) to \(targetShape)") }
        }
        return outputShape(validated: inputShape)
    }

    /// The output shape for a sample shape `outputShape(for:)` accepted
    /// (forward passes): the target shape with its -1 resolved. No checks.
    func outputShape(validated inputShape: [Int]) -> [Int] {
        let total = inputShape.reduce(1, *)
        let known = targetShape.filter { $0 != -1 }.reduce(1, *)
        return targetShape.map { $0 == -1 ? total / known : $0 }
    }

    public func forward(_ input: Tensor) -> Tensor {
        input.reshaped([input.batchCount] + outputShape(validated: input.sampleShape))
    }
}

// MARK: - Training

extension Reshape: TrainableLayer {
    /// Only the input shape: the gradient is reshaped back.
    public struct Cache: LayerCache { public let inputShape: [Int] }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        (forward(input), Cache(inputShape: input.shape))
    }

    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        outputGradient.reshaped((cache as! Cache).inputShape)
    }
}
