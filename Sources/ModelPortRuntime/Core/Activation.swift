import Foundation
import ModelPortKernels

/// An element-wise (or, for softmax and log_softmax, per-row) activation
/// function, named as Keras names it in layer configs (`"activation": "relu"`).
///
/// Where Keras 2 and Keras 3 define a function differently, both are here:
/// `hard_sigmoid` is Keras 3's `relu6(x + 3) / 6`; Keras 2's `0.2x + 0.5`
/// clipped to [0, 1] is `hardSigmoidKeras2` (chosen by the importer from the
/// file's Keras version). `gelu` is the exact (erf) form Keras uses by
/// default; `geluTanh` the tanh approximation (`approximate=True`).
public enum Activation: String, Sendable, CaseIterable {
    case linear, relu, relu6, sigmoid, tanh, softmax
    case logSoftmax = "log_softmax"
    case softplus, softsign, elu, selu, gelu
    case geluTanh = "gelu_tanh"
    case swish, silu, exponential
    case hardSigmoid = "hard_sigmoid"
    case hardSigmoidKeras2 = "hard_sigmoid_keras2"
    case hardSilu = "hard_silu"

    /// Names Keras writes in configs, mapped to cases (aliases included).
    public static func named(_ name: String, kerasMajorVersion: Int = 3) -> Activation? {
        switch name {
        case "hard_sigmoid": return kerasMajorVersion >= 3 ? .hardSigmoid : .hardSigmoidKeras2
        case "hard_swish": return .hardSilu
        case "gelu_tanh", "hard_sigmoid_keras2": return nil  // internal names, never in a Keras file
        default: return Activation(rawValue: name)
        }
    }

    /// The names a Keras config may use, for messages and documentation.
    public static var kerasNames: [String] {
        allCases.map(\.rawValue).filter { $0 != "gelu_tanh" && $0 != "hard_sigmoid_keras2" } + ["hard_swish"]
    }

    /// Applies the activation in place to `count` values laid out as rows of
    /// `rowLength` (softmax and log_softmax normalise each row, the last axis).
    public func apply(_ x: UnsafeMutablePointer<Float>, count: Int, rowLength: Int) {
        switch self {
        case .linear:
            return
        case .softmax, .logSoftmax:
            precondition(rowLength > 0 && count % rowLength == 0)
            var row = x
            for _ in 0..<(count / rowLength) {
                // Subtract the row maximum first, as Keras does, so exp cannot overflow.
                var maximum = -Float.infinity
                for j in 0..<rowLength { maximum = max(maximum, row[j]) }
                if self == .softmax {
                    var sum: Float = 0
                    for j in 0..<rowLength { let e = Foundation.exp(row[j] - maximum); row[j] = e; sum += e }
                    for j in 0..<rowLength { row[j] /= sum }
                } else {
                    var sum: Float = 0
                    for j in 0..<rowLength { sum += Foundation.exp(row[j] - maximum) }
                    let logSum = Foundation.log(sum)
                    for j in 0..<rowLength { row[j] = row[j] - maximum - logSum }
                }
                row += rowLength
            }
        // One loop per function (not a switch per element), so the simple
        // ones vectorise.
        case .relu:
            for i in 0..<count { x[i] = Swift.max(x[i], 0) }  // NaN stays NaN, as in TensorFlow
        case .relu6:
            for i in 0..<count { x[i] = Swift.min(Swift.max(x[i], 0), 6) }
        case .sigmoid, .swish, .silu:
            // A vector exp on CPUs with a kernel family (ExpFunction), libm's otherwise.
            if let family = CPUKernels.family {
                family.apply(self == .sigmoid ? .sigmoid : .swish, x, count: count)
            } else if self == .sigmoid {
                for i in 0..<count { x[i] = 1 / (1 + Foundation.exp(-x[i])) }
            } else {
                for i in 0..<count { x[i] = x[i] / (1 + Foundation.exp(-x[i])) }
            }
        case .tanh:
            for i in 0..<count { x[i] = Foundation.tanh(x[i]) }
        default:
            for i in 0..<count { x[i] = value(x[i]) }
        }
    }

    /// The element-wise function at one point (not for softmax/log_softmax).
    @inline(__always)
    public func value(_ v: Float) -> Float {
        switch self {
        case .linear: return v
        case .relu: return v > 0 ? v : (v.isNaN ? v : 0)
        case .relu6: return min(max(v, 0), 6)
        case .sigmoid: return 1 / (1 + Foundation.exp(-v))
        case .tanh: return Foundation.tanh(v)
        case .softplus:
            // log(1 + e^v) without overflow: max(v, 0) + log1p(e^-|v|).
            return max(v, 0) + Foundation.log1p(Foundation.exp(-abs(v)))
        case .softsign: return v / (1 + abs(v))
        case .elu: return v > 0 ? v : Foundation.expm1(v)
        case .selu:
            let alpha: Float = 1.6732632423543772848170429916717
            let scale: Float = 1.0507009873554804934193349852946
            return v > 0 ? scale * v : scale * alpha * Foundation.expm1(v)
        case .gelu: return 0.5 * v * (1 + Foundation.erf(v / Float(2).squareRoot()))
        case .geluTanh:
            let c: Float = 0.7978845608028654  // sqrt(2 / pi)
            return 0.5 * v * (1 + Foundation.tanh(c * (v + 0.044715 * v * v * v)))
        case .swish, .silu: return v / (1 + Foundation.exp(-v))
        case .exponential: return Foundation.exp(v)
        case .hardSigmoid: return min(max(v + 3, 0), 6) / 6
        case .hardSigmoidKeras2: return min(max(0.2 * v + 0.5, 0), 1)
        case .hardSilu: return v * min(max(v + 3, 0), 6) / 6
        case .softmax, .logSoftmax: preconditionFailure("\(self) is not element-wise")
        }
    }

    /// Applies the activation to a whole tensor (softmax over the last axis).
    public func apply(to tensor: inout Tensor) {
        guard self != .linear else { return }
        let rowLength = tensor.shape.last ?? 1
        let n = tensor.count
        tensor.scalars.withUnsafeMutableBufferPointer { apply($0.baseAddress!, count: n, rowLength: rowLength) }
    }
}
