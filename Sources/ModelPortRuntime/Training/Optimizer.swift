import Foundation

/// A value in an optimizer's Keras config (`get_config()`).
public enum ConfigValue: Sendable, Equatable {
    case number(Double), bool(Bool), string(String), null
}

/// One optimizer's update rule: a per-parameter step that updates the
/// parameter and its state in place from the gradient, as Keras 3 writes it
/// in each optimizer's `update_step`.
public protocol OptimizerRule: Sendable {
    /// Keras's class name (`"Adam"`).
    var kerasClassName: String { get }
    /// Per-parameter state, named and ordered as Keras builds it (Adam:
    /// `momentum`, `velocity`); each slot has the parameter's shape, zeros at first.
    var slotNames: [String] { get }
    /// Updates `value` in place with `gradient`, element-wise: element `j`
    /// of the value and slots depends only on element `j` of the gradient,
    /// value and slots (as every Keras `update_step` here), so `Optimizer`
    /// may hand a large parameter to several threads as disjoint slices.
    /// - Parameters:
    ///   - slots: this parameter's state, one buffer per `slotNames` entry.
    ///   - learningRate: the schedule's value at this step.
    ///   - step: `iterations + 1`, the 1-based number of this update.
    func update(value: UnsafeMutableBufferPointer<Float>, gradient: UnsafeBufferPointer<Float>,
                slots: [UnsafeMutableBufferPointer<Float>], learningRate: Float, step: Int)
    /// The rule's own entries in Keras's optimizer config.
    var kerasConfig: [(String, ConfigValue)] { get }
}

/// An optimizer with Keras 3 semantics around its rule: the learning-rate
/// schedule, gradient clipping (`clipnorm`, `global_clipnorm`, `clipvalue`),
/// decoupled weight decay, per-parameter state and the `iterations` count.
///
/// `apply` follows `BaseOptimizer.apply` (keras/src/optimizers/base_optimizer.py):
/// clip the gradients; `lr = schedule(iterations)`; with weight decay,
/// `w -= w * weightDecay * lr`; then each parameter's `update_step`;
/// finally `iterations += 1`.
public final class Optimizer: @unchecked Sendable {
    public var rule: any OptimizerRule
    public var learningRate: LearningRateSchedule
    /// Updates applied so far (Keras's `optimizer.iterations`).
    public var iterations: Int = 0
    /// Clip each parameter's gradient to this L2 norm.
    public var clipnorm: Float?
    /// Clip all gradients together to this global L2 norm.
    public var globalClipnorm: Float?
    /// Clip each gradient element to [-clipvalue, clipvalue].
    public var clipvalue: Float?
    /// Decoupled weight decay (AdamW's 0.004 by default; nil for none).
    public var weightDecay: Float?
    /// Keras class name written to configs (`"AdamW"` for Adam + weight decay).
    public var kerasClassName: String
    /// The parameters the state belongs to, fixed by the first `apply` or `build`.
    public private(set) var parameters: [Parameter] = []
    /// Per parameter, its state slots one after another (slot-major).
    private var state: [[Float]] = []

    public init(rule: any OptimizerRule, learningRate: LearningRateSchedule = .constant(0.001),
                clipnorm: Float? = nil, globalClipnorm: Float? = nil, clipvalue: Float? = nil,
                weightDecay: Float? = nil, kerasClassName: String? = nil) {
        self.rule = rule
        self.learningRate = learningRate
        self.clipnorm = clipnorm
        self.globalClipnorm = globalClipnorm
        self.clipvalue = clipvalue
        self.weightDecay = weightDecay
        self.kerasClassName = kerasClassName ?? rule.kerasClassName
    }

    /// Keras `Adam` (defaults: lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7).
    public static func adam(learningRate: LearningRateSchedule = .constant(OptimizerKind.adam.defaultLearningRate), beta1: Double = 0.9, beta2: Double = 0.999,
                            epsilon: Double = 1e-7, amsgrad: Bool = false, clipnorm: Float? = nil) -> Optimizer {
        Optimizer(rule: Adam(beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad),
                  learningRate: learningRate, clipnorm: clipnorm)
    }

    /// Keras `AdamW`: Adam with decoupled weight decay (default 0.004).
    public static func adamW(learningRate: LearningRateSchedule = .constant(OptimizerKind.adamw.defaultLearningRate), weightDecay: Float = 0.004,
                             beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-7,
                             amsgrad: Bool = false, clipnorm: Float? = nil) -> Optimizer {
        Optimizer(rule: Adam(beta1: beta1, beta2: beta2, epsilon: epsilon, amsgrad: amsgrad),
                  learningRate: learningRate, clipnorm: clipnorm, weightDecay: weightDecay, kerasClassName: "AdamW")
    }

    /// Keras `SGD` (defaults: lr 0.01, momentum 0, no Nesterov).
    public static func sgd(learningRate: LearningRateSchedule = .constant(OptimizerKind.sgd.defaultLearningRate), momentum: Double = 0,
                           nesterov: Bool = false, clipnorm: Float? = nil) -> Optimizer {
        Optimizer(rule: SGD(momentum: momentum, nesterov: nesterov), learningRate: learningRate, clipnorm: clipnorm)
    }

    /// Keras `RMSprop` (defaults: lr 0.001, rho 0.9, momentum 0, epsilon 1e-7, not centered).
    public static func rmsprop(learningRate: LearningRateSchedule = .constant(OptimizerKind.rmsprop.defaultLearningRate), rho: Double = 0.9,
                               momentum: Double = 0, epsilon: Double = 1e-7, centered: Bool = false,
                               clipnorm: Float? = nil) -> Optimizer {
        Optimizer(rule: RMSprop(rho: rho, momentum: momentum, epsilon: epsilon, centered: centered),
                  learningRate: learningRate, clipnorm: clipnorm)
    }

    /// The learning rate the next update will use.
    public var currentLearningRate: Float { learningRate.value(at: iterations) }

    /// Creates zero state for `parameters` (Keras's `optimizer.build(vars)`).
    public func build(_ parameters: [Parameter]) {
        self.parameters = parameters
        state = parameters.map { [Float](repeating: 0, count: $0.value.count * rule.slotNames.count) }
    }

    /// State `rule.slotNames[slot]` of parameter `index`, in the parameter's shape.
    public func slot(_ slot: Int, of index: Int) -> Tensor {
        let n = parameters[index].value.count
        return Tensor(shape: parameters[index].shape, scalars: Array(state[index][(slot * n)..<((slot + 1) * n)]))
    }

    /// Replaces state `rule.slotNames[slot]` of parameter `index` (restoring saved state).
    /// - Precondition: `value` has the parameter's element count.
    public func setSlot(_ slot: Int, of index: Int, to value: Tensor) {
        let n = parameters[index].value.count
        precondition(value.count == n, "optimizer slot for \(parameters[index].name): \(value.count) values, need \(n)")
        state[index].replaceSubrange((slot * n)..<((slot + 1) * n), with: value.scalars)
    }

    /// One update of every parameter from `gradients` (which are clipped in place).
    /// - Precondition: `gradients.parameters` are the built parameters (builds on first use).
    public func apply(_ gradients: Gradients) {
        if parameters.isEmpty { build(gradients.parameters) }
        precondition(parameters.count == gradients.parameters.count
                     && zip(parameters, gradients.parameters).allSatisfy { $0 === $1 },
                     "optimizer state was built for other parameters")
        clip(gradients)
        let lr = currentLearningRate
        let step = iterations + 1
        let decay = weightDecay.map { $0 * lr } ?? 0
        let rule = rule
        for (i, p) in parameters.enumerated() {
            gradients.withBuffer(at: i) { g in
                p.value.scalars.withUnsafeMutableBufferPointer { w in
                    withSlots(i) { s in
                        // Every rule is element-wise, so large parameters are
                        // updated in slices on all cores, each element exactly
                        // as in one pass.
                        nonisolated(unsafe) let (w, g, s) = (w, g, s)
                        let update: @Sendable (Range<Int>) -> Void = { r in
                            let wr = UnsafeMutableBufferPointer(rebasing: w[r])
                            guard wr.count > 0 else { return }
                            if decay > 0 {
                                // Keras's decoupled weight decay, before the rule: w -= w * wd * lr.
                                let wv = FloatLanes(wr)
                                FloatLanes.forEach(wr.count) { j, n in wv[j, n] = wv[j, n] - wv[j, n] * decay }
                            }
                            rule.update(value: wr, gradient: UnsafeBufferPointer(rebasing: g[r]),
                                        slots: s.map { UnsafeMutableBufferPointer(rebasing: $0[r]) },
                                        learningRate: lr, step: step)
                        }
                        if w.count < Self.parallelUpdateSize {
                            update(0..<w.count)
                        } else {
                            parallelChunks(total: w.count, maxChunk: w.count, update)
                        }
                    }
                }
            }
        }
        iterations += 1
    }

    /// Parameters with fewer elements than this are updated on one thread
    /// (smaller ones cost less than handing work to another core).
    static let parallelUpdateSize = 1 << 16

    private func withSlots(_ i: Int, _ body: ([UnsafeMutableBufferPointer<Float>]) -> Void) {
        let n = parameters[i].value.count
        state[i].withUnsafeMutableBufferPointer { all in
            body((0..<rule.slotNames.count).map { UnsafeMutableBufferPointer(rebasing: all[($0 * n)..<(($0 + 1) * n)]) })
        }
    }

    /// Keras's `_clip_gradients`: `clipnorm` scales each gradient by
    /// `clipnorm / max(norm, clipnorm)`; `global_clipnorm` the same with the
    /// norm of all gradients; `clipvalue` clips elements.
    func clip(_ gradients: Gradients) {
        let count = gradients.parameters.count
        if let c = clipnorm, c > 0 {
            for i in 0..<count {
                gradients.withMutableBuffer(at: i) { g in
                    var sq: Float = 0
                    for v in g { sq += v * v }
                    let norm = sq > 0 ? sq.squareRoot() : 0
                    let denominator = max(norm, c)
                    for j in 0..<g.count { g[j] = g[j] * c / denominator }
                }
            }
        } else if let c = globalClipnorm, c > 0 {
            var sq: Float = 0
            for i in 0..<count { gradients.withBuffer(at: i) { for v in $0 { sq += v * v } } }
            let norm = sq.squareRoot()
            let factor = c / max(norm, c)
            for i in 0..<count { gradients.withMutableBuffer(at: i) { g in for j in 0..<g.count { g[j] *= factor } } }
        } else if let c = clipvalue, c > 0 {
            for i in 0..<count { gradients.withMutableBuffer(at: i) { g in for j in 0..<g.count { g[j] = min(max(g[j], -c), c) } } }
        }
    }
}
