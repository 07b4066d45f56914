/// Keras 3 `SGD` (keras/src/optimizers/sgd.py, `update_step`):
///
///     momentum == 0:  w -= lr * g
///     otherwise:      m = momentum * m - lr * g
///                     w += m                          (plain)
///                     w += momentum * m - lr * g      (nesterov, with the new m)
public struct SGD: OptimizerRule {
    public var momentum: Double
    public var nesterov: Bool

    public init(momentum: Double = 0, nesterov: Bool = false) {
        self.momentum = momentum
        self.nesterov = nesterov
    }

    public var kerasClassName: String { "SGD" }
    public var slotNames: [String] { momentum != 0 ? ["momentum"] : [] }

    public func update(value w: UnsafeMutableBufferPointer<Float>, gradient g: UnsafeBufferPointer<Float>,
                       slots: [UnsafeMutableBufferPointer<Float>], learningRate lr: Float, step: Int) {
        guard momentum != 0 else {
            for i in 0..<w.count { w[i] -= g[i] * lr }
            return
        }
        let m = slots[0]
        let mu = Float(momentum)
        for i in 0..<w.count {
            m[i] = m[i] * mu - g[i] * lr
            w[i] += nesterov ? m[i] * mu - g[i] * lr : m[i]
        }
    }

    public var kerasConfig: [(String, ConfigValue)] {
        [("momentum", .number(momentum)), ("nesterov", .bool(nesterov))]
    }
}
