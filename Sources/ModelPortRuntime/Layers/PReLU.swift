/// Parametric ReLU: `x` for `x >= 0`, else `alpha * x`, with a learned
/// `alpha` per position; `sharedAxes` (1-based sample axes, as Keras writes
/// them) share one alpha along those axes (alpha has size 1 there).
public final class PReLU: Layer, @unchecked Sendable {
    public let name: String
    public var typeName: String { "PReLU" }
    public let alpha: Parameter
    public let sharedAxes: [Int]

    /// - Parameter inputShape: one sample's shape; alpha's shape is that with
    ///   the shared axes set to 1.
    public init(name: String, inputShape: [Int], sharedAxes: [Int] = []) {
        self.name = name
        self.sharedAxes = sharedAxes
        var shape = inputShape
        for axis in sharedAxes where axis >= 1 && axis <= shape.count { shape[axis - 1] = 1 }
        alpha = Parameter(name: "alpha", value: Tensor(zeros: shape))
    }

    public var parameters: [Parameter] { [alpha] }

    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        let a = alpha.shape
        guard a.count == inputShape.count, zip(a, inputShape).allSatisfy({ $0 == $1 || $0 == 1 }) else {
            throw RuntimeError("alpha of shape \(a) does not broadcast to input \(inputShape)")
        }
        return inputShape
    }

    public func forward(_ input: Tensor) -> Tensor {
        let shape = input.sampleShape, a = alpha.shape
        let rank = shape.count
        // Row-major strides of alpha, zero along broadcast axes.
        var strides = [Int](repeating: 0, count: rank)
        var s = 1
        for k in stride(from: rank - 1, through: 0, by: -1) {
            strides[k] = a[k] == 1 ? 0 : s
            s *= a[k]
        }
        let per = input.sampleCount
        var output = input
        var index = [Int](repeating: 0, count: rank)
        var alphaIndex = [Int](repeating: 0, count: per)
        for o in 0..<per {
            var j = 0
            for k in 0..<rank { j += index[k] * strides[k] }
            alphaIndex[o] = j
            var k = rank - 1
            while k >= 0 { index[k] += 1; if index[k] < shape[k] { break }; index[k] = 0; k -= 1 }
        }
        for i in 0..<output.count {
            let x = output.scalars[i]
            if x < 0 { output.scalars[i] = alpha.value.scalars[alphaIndex[i % per]] * x }
        }
        return output
    }
}
