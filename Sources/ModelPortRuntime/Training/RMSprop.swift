/// Keras 3 `RMSprop` (keras/src/optimizers/rmsprop.py, `update_step`):
///
///     velocity = rho * velocity + (1 - rho) * g^2
///     centered:  average_grad = rho * average_grad + (1 - rho) * g
///                denominator = velocity - average_grad^2 + epsilon
///     otherwise: denominator = velocity + epsilon
///     increment = lr * g / sqrt(denominator)         (epsilon inside the root)
///     momentum > 0: m = momentum * m + increment; w -= m
///     otherwise:    w -= increment
public struct RMSprop: OptimizerRule {
    public var rho: Double
    public var momentum: Double
    public var epsilon: Double
    public var centered: Bool

    public init(rho: Double = 0.9, momentum: Double = 0, epsilon: Double = 1e-7, centered: Bool = false) {
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
    }

    public var kerasClassName: String { "RMSprop" }
    /// Keras builds velocities, then momentums (momentum > 0), then average gradients (centered).
    public var slotNames: [String] {
        ["velocity"] + (momentum > 0 ? ["momentum"] : []) + (centered ? ["average_gradient"] : [])
    }

    public func update(value w: UnsafeMutableBufferPointer<Float>, gradient g: UnsafeBufferPointer<Float>,
                       slots: [UnsafeMutableBufferPointer<Float>], learningRate lr: Float, step: Int) {
        guard w.count > 0 else { return }
        let wv = FloatLanes(w), gv = FloatLanes(g), velocity = FloatLanes(slots[0])
        let m = momentum > 0 ? FloatLanes(slots[1]) : nil
        let average = centered ? FloatLanes(slots[momentum > 0 ? 2 : 1]) : nil
        let r = Float(rho), oneMinusRho = Float(1 - rho), eps = Float(epsilon), mu = Float(momentum)
        FloatLanes.forEach(w.count) { i, n in
            let gi = gv[i, n]
            let vi = r * velocity[i, n] + oneMinusRho * (gi * gi)
            velocity[i, n] = vi
            var denominator: FloatLanes.Vector
            if let average {
                let ai = r * average[i, n] + oneMinusRho * gi
                average[i, n] = ai
                denominator = vi - ai * ai + eps
            } else {
                denominator = vi + eps
            }
            let increment = (lr * gi) / denominator.squareRoot()
            if let m {
                let mi = mu * m[i, n] + increment
                m[i, n] = mi
                wv[i, n] = wv[i, n] - mi
            } else {
                wv[i, n] = wv[i, n] - increment
            }
        }
    }

    public var kerasConfig: [(String, ConfigValue)] {
        [("rho", .number(rho)), ("momentum", .number(momentum)), ("epsilon", .number(epsilon)), ("centered", .bool(centered))]
    }
}
