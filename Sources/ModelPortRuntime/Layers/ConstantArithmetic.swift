import Foundation

/// `x op c` or `c op x`: element-wise arithmetic between the input and a
/// constant broadcast numpy-style over one sample (`x / 127.5`, `1 - x`,
/// `x - [103.9, 116.8, 123.7]` per channel). Shapes exclude the batch axis;
/// the constant's axes align with the sample's last axes, each of size 1 or
/// the sample's size, so the output has the input's shape.
public final class ConstantArithmetic: Layer, @unchecked Sendable {
    public enum Operation: String, Sendable, CaseIterable {
        case add, subtract, multiply, divide, maximum, minimum, power
    }

    public let name: String
    public let operation: Operation
    /// The constant, at its own (broadcastable) shape; `[]` for a scalar.
    public let constant: Tensor
    /// True for `c op x` (matters for subtract, divide and power).
    public let constantFirst: Bool
    /// Named after the `keras.ops` function, which is what users write.
    public var typeName: String { "ops." + operation.rawValue }

    /// - Precondition: `constant` has at least one element.
    public init(name: String, operation: Operation, constant: Tensor, constantFirst: Bool = false) {
        precondition(constant.count > 0, "\(name): empty constant")
        self.name = name
        self.operation = operation
        self.constant = constant
        self.constantFirst = constantFirst
    }

    /// The constant as a single number, when it is one.
    public var scalar: Float? { constant.count == 1 ? constant.scalars[0] : nil }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard constant.rank <= inputShape.count,
              zip(constant.shape.reversed(), inputShape.reversed()).allSatisfy({ $0 == 1 || $0 == $1 }) else {
            throw RuntimeError("a constant of shape \(constant.shape) does not broadcast over one sample of shape \(inputShape) without enlarging it")
        }
        return inputShape
    }

    /// For each element of one sample, the index of the constant element it meets.
    func constantIndices(sampleShape: [Int]) -> [Int] {
        let count = sampleShape.reduce(1, *)
        if constant.count == 1 { return [Int](repeating: 0, count: count) }
        let shape = [Int](repeating: 1, count: sampleShape.count - constant.rank) + constant.shape
        // The constant's stride on each sample axis (0 where it is broadcast).
        var strides = [Int](repeating: 0, count: shape.count)
        var s = 1
        for k in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[k] = shape[k] == 1 ? 0 : s
            s *= shape[k]
        }
        var indices = [Int](repeating: 0, count: count)
        var position = [Int](repeating: 0, count: sampleShape.count)
        for i in 0..<count {
            var index = 0
            for k in 0..<position.count { index += position[k] * strides[k] }
            indices[i] = index
            var k = position.count - 1
            while k >= 0 {
                position[k] += 1
                if position[k] < sampleShape[k] { break }
                position[k] = 0
                k -= 1
            }
        }
        return indices
    }

    @inline(__always)
    func apply(_ x: Float, _ c: Float) -> Float {
        let (a, b) = constantFirst ? (c, x) : (x, c)
        switch operation {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .maximum: return Swift.max(a, b)
        case .minimum: return Swift.min(a, b)
        case .power: return Foundation.pow(a, b)
        }
    }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        if let c = scalar {
            for i in 0..<output.count { output.scalars[i] = apply(input.scalars[i], c) }
            return output
        }
        let indices = constantIndices(sampleShape: input.sampleShape)
        let per = max(indices.count, 1)
        for i in 0..<output.count { output.scalars[i] = apply(input.scalars[i], constant.scalars[indices[i % per]]) }
        return output
    }
}

// MARK: - Training

extension ConstantArithmetic: TrainableLayer {
    /// The input, for the operations whose derivative depends on it
    /// (multiply and add do not keep it).
    public struct Cache: LayerCache {
        public let input: Tensor?
    }

    public func forward(_ input: Tensor, context: TrainingContext) -> (output: Tensor, cache: any LayerCache) {
        let keep = !(operation == .add || operation == .subtract || operation == .multiply
            || (operation == .divide && !constantFirst))
        return (forward(input), Cache(input: keep ? input : nil))
    }

    /// The constant gets no gradient. d(x op c)/dx: add 1; subtract ±1;
    /// multiply c; x / c: 1/c, c / x: -c/x²; maximum/minimum: 1 where x wins
    /// (a tie goes to the first operand, as TensorFlow's gradient does);
    /// x^c: c·x^(c-1), c^x: ln(c)·c^x.
    public func backward(_ outputGradient: Tensor, cache: any LayerCache, gradients: Gradients) -> Tensor {
        let x = (cache as! Cache).input
        var dx = outputGradient
        let indices = constantIndices(sampleShape: outputGradient.sampleShape)
        let per = max(indices.count, 1)
        for i in 0..<dx.count {
            let c = constant.scalars[indices[i % per]]
            let dy = outputGradient.scalars[i]
            switch operation {
            case .add: break
            case .subtract: if constantFirst { dx.scalars[i] = -dy }
            case .multiply: dx.scalars[i] = dy * c
            case .divide:
                if constantFirst {
                    let v = x!.scalars[i]
                    dx.scalars[i] = -dy * c / (v * v)
                } else {
                    dx.scalars[i] = dy / c
                }
            case .maximum, .minimum:
                let v = x!.scalars[i]
                let wins: Bool
                if operation == .maximum { wins = constantFirst ? v > c : v >= c } else { wins = constantFirst ? v < c : v <= c }
                dx.scalars[i] = wins ? dy : 0
            case .power:
                let v = x!.scalars[i]
                dx.scalars[i] = constantFirst ? dy * Foundation.log(c) * Foundation.pow(c, v) : dy * c * Foundation.pow(v, c - 1)
            }
        }
        return dx
    }
}
