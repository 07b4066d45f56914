import Foundation

/// Derivatives of the activations, for backward passes.
///
/// Most are written in terms of the forward output `y` (ReLU, sigmoid, tanh,
/// softmax); the rest need the pre-activation input `x`
/// (`derivativeNeedsInput`). The rows convention is `apply`'s: softmax and
/// log_softmax work on rows of the last axis.
extension Activation {
    /// Whether `backward` needs the pre-activation input, not just the output.
    public var derivativeNeedsInput: Bool {
        switch self {
        case .linear, .relu, .sigmoid, .tanh, .softmax, .logSoftmax, .exponential: return false
        default: return true
        }
    }

    /// Whether ModelPort can train through this activation.
    public var isDifferentiable: Bool {
        self == .softmax || self == .logSoftmax || elementDerivative(x: 0, y: value(0)) != nil
    }

    /// f'(x) for element-wise activations, given x and y = f(x); nil when
    /// not element-wise or unknown. At kinks the derivative follows
    /// TensorFlow's gradients (ReLU: 0 at x = 0; relu6: 0 at 0 and 6).
    @inline(__always)
    func elementDerivative(x: Float, y: Float) -> Float? {
        switch self {
        case .linear: return 1
        case .relu: return y > 0 ? 1 : 0
        case .relu6: return x > 0 && x < 6 ? 1 : 0
        case .sigmoid: return y * (1 - y)
        case .tanh: return 1 - y * y
        case .exponential: return y
        case .softplus: return 1 / (1 + Foundation.exp(-x))
        case .softsign: let d = 1 + abs(x); return 1 / (d * d)
        case .elu: return x > 0 ? 1 : y + 1
        case .selu:
            let alpha: Float = 1.6732632423543772848170429916717
            let scale: Float = 1.0507009873554804934193349852946
            return x > 0 ? scale : y + scale * alpha
        case .gelu:
            let cdf = 0.5 * (1 + Foundation.erf(x / Float(2).squareRoot()))
            let pdf = Foundation.exp(-0.5 * x * x) / Float(2 * Double.pi).squareRoot()
            return cdf + x * pdf
        case .geluTanh:
            let c: Float = 0.7978845608028654  // sqrt(2 / pi)
            let inner = c * (x + 0.044715 * x * x * x)
            let t = Foundation.tanh(inner)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x)
        case .swish, .silu:
            let s = 1 / (1 + Foundation.exp(-x))
            return s + x * s * (1 - s)
        case .hardSigmoid: return x > -3 && x < 3 ? 1.0 / 6 : 0
        case .hardSigmoidKeras2: return x > -2.5 && x < 2.5 ? 0.2 : 0
        case .hardSilu: return x >= 3 ? 1 : (x <= -3 ? 0 : (2 * x + 3) / 6)
        default: return nil
        }
    }

    /// dLoss/dx from dLoss/dy, for a tensor whose last axis is the softmax row.
    /// - Parameters:
    ///   - outputGradient: dLoss/dy.
    ///   - output: y = f(x) from the forward pass.
    ///   - input: x; required when `derivativeNeedsInput`.
    public func backward(_ outputGradient: Tensor, output: Tensor, input: Tensor?) -> Tensor {
        precondition(outputGradient.shape == output.shape, "activation gradient \(outputGradient.shape) vs output \(output.shape)")
        if self == .linear { return outputGradient }
        precondition(!derivativeNeedsInput || input?.shape == output.shape, "\(self) backward needs the pre-activation input")
        var dx = outputGradient
        let n = dx.count
        let rowLength = output.shape.last ?? 1
        dx.scalars.withUnsafeMutableBufferPointer { d in
            output.scalars.withUnsafeBufferPointer { y in
                switch self {
                case .softmax:
                    // dx_i = y_i * (dy_i - sum_j dy_j y_j)
                    var r = 0
                    while r < n {
                        var dot: Float = 0
                        for j in r..<(r + rowLength) { dot += d[j] * y[j] }
                        for j in r..<(r + rowLength) { d[j] = y[j] * (d[j] - dot) }
                        r += rowLength
                    }
                case .logSoftmax:
                    // y = x - logsumexp(x): dx_i = dy_i - exp(y_i) * sum_j dy_j
                    var r = 0
                    while r < n {
                        var sum: Float = 0
                        for j in r..<(r + rowLength) { sum += d[j] }
                        for j in r..<(r + rowLength) { d[j] -= Foundation.exp(y[j]) * sum }
                        r += rowLength
                    }
                case .relu:
                    // The common case, as one vectorisable loop: dy * (y > 0).
                    for i in 0..<n { d[i] *= y[i] > 0 ? 1 : 0 }
                case .sigmoid:
                    for i in 0..<n { d[i] *= y[i] * (1 - y[i]) }
                case .tanh:
                    for i in 0..<n { d[i] *= 1 - y[i] * y[i] }
                default:
                    if let input {
                        input.scalars.withUnsafeBufferPointer { x in
                            for i in 0..<n { d[i] *= elementDerivative(x: x[i], y: y[i])! }
                        }
                    } else {
                        for i in 0..<n { d[i] *= elementDerivative(x: 0, y: y[i])! }
                    }
                }
            }
        }
        return dx
    }
}
