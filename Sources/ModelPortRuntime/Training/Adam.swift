import Foundation

/// Keras 3 `Adam` (keras/src/optimizers/adam.py, `update_step`), at step t:
///
///     alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)
///     m += (g - m) * (1 - beta_1)
///     v += (g^2 - v) * (1 - beta_2)
///     v_hat = max(v_hat, v); v = v_hat        (amsgrad only)
///     w -= m * alpha / (sqrt(v) + epsilon)
///
/// Note epsilon is added outside the square root and to the uncorrected v
/// (Kingma & Ba's "epsilon hat"). Arithmetic is float32 like Keras's.
public struct Adam: OptimizerRule {
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var amsgrad: Bool

    public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7, amsgrad: Bool = false) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
    }

    public var kerasClassName: String { "Adam" }
    public var slotNames: [String] { amsgrad ? ["momentum", "velocity", "velocity_hat"] : ["momentum", "velocity"] }

    public func update(value w: UnsafeMutableBufferPointer<Float>, gradient g: UnsafeBufferPointer<Float>,
                       slots: [UnsafeMutableBufferPointer<Float>], learningRate lr: Float, step: Int) {
        let m = slots[0], v = slots[1]
        let t = Float(step)
        let b1 = Float(beta1), b2 = Float(beta2)
        let alpha = lr * (1 - Foundation.pow(b2, t)).squareRoot() / (1 - Foundation.pow(b1, t))
        // Python evaluates 1 - beta in double, then TensorFlow casts to float32.
        let oneMinusB1 = Float(1 - beta1), oneMinusB2 = Float(1 - beta2)
        let eps = Float(epsilon)
        guard w.count > 0 else { return }
        let wv = FloatLanes(w), gv = FloatLanes(g), mv = FloatLanes(m), vv = FloatLanes(v)
        let hat = amsgrad ? FloatLanes(slots[2]) : nil
        FloatLanes.forEach(w.count) { i, n in
            let gi = gv[i, n]
            let mi = mv[i, n] + (gi - mv[i, n]) * oneMinusB1
            var vi = vv[i, n] + (gi * gi - vv[i, n]) * oneMinusB2
            mv[i, n] = mi
            vv[i, n] = vi
            if let hat {
                vi = pointwiseMax(hat[i, n], vi)
                hat[i, n] = vi
            }
            wv[i, n] = wv[i, n] - mi * alpha / (vi.squareRoot() + eps)
        }
    }

    public var kerasConfig: [(String, ConfigValue)] {
        [("beta_1", .number(beta1)), ("beta_2", .number(beta2)), ("epsilon", .number(epsilon)), ("amsgrad", .bool(amsgrad))]
    }
}
