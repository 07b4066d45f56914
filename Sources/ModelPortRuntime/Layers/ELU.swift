import Foundation

/// Keras's `ELU` layer: `x` for `x > 0`, else `alpha * (exp(x) - 1)`.
public final class ELU: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "ELU" }
    public let alpha: Float

    public init(name: String, alpha: Float = 1) {
        self.name = name
        self.alpha = alpha
    }

    public func outputShape(for inputShape: [Int]) throws -> [Int] { inputShape }

    public func forward(_ input: Tensor) -> Tensor {
        var output = input
        for i in 0..<output.count {
            let x = output.scalars[i]
            output.scalars[i] = x > 0 ? x : alpha * Foundation.expm1(x)
        }
        return output
    }
}
