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
        let velocity = slots[0]
        let m: UnsafeMutableBufferPointer<Float>? = momentum > 0 ? slots[1] : nil
        let average: UnsafeMutableBufferPointer<Float>? = centered ? slots[momentum > 0 ? 2 : 1] : nil
        let r = Float(rho), oneMinusRho = Float(1 - rho), eps = Float(epsilon), mu = Float(momentum)
        for i in 0..<w.count {
            velocity[i] = r * velocity[i] + oneMinusRho * (g[i] * g[i])
            var denominator: Float
            if let average {
                average[i] = r * average[i] + oneMinusRho * g[i]
                denominator = velocity[i] - average[i] * average[i] + eps
            } else {
                denominator = velocity[i] + eps
            }
            let increment = (lr * g[i]) / denominator.squareRoot()
            if let m {
                m[i] = mu * m[i] + increment
                w[i] -= m[i]
            } else {
                w[i] -= increment
            }
        }
    }

    public var kerasConfig: [(String, ConfigValue)] {
        [("rho", .number(rho)), ("momentum", .number(momentum)), ("epsilon", .number(epsilon)), ("centered", .bool(centered))]
    }
}
