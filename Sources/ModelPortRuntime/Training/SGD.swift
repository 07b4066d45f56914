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
        guard w.count > 0 else { return }
        let wv = FloatLanes(w), gv = FloatLanes(g)
        guard momentum != 0 else {
            FloatLanes.forEach(w.count) { i, n in wv[i, n] = wv[i, n] - gv[i, n] * lr }
            return
        }
        let mv = FloatLanes(slots[0])
        let mu = Float(momentum)
        let nesterov = nesterov
        FloatLanes.forEach(w.count) { i, n in
            let gi = gv[i, n]
            let mi = mv[i, n] * mu - gi * lr
            mv[i, n] = mi
            wv[i, n] = wv[i, n] + (nesterov ? mi * mu - gi * lr : mi)
        }
    }

    public var kerasConfig: [(String, ConfigValue)] {
        [("momentum", .number(momentum)), ("nesterov", .bool(nesterov))]
    }
}
