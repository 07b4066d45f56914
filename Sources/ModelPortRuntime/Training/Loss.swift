import Foundation

/// Keras's losses, with Keras 3 / TensorFlow-backend semantics.
///
/// Every loss reduces the last axis to one value per row, then averages the
/// rows of the batch ("sum_over_batch_size"). From probabilities, Keras clips
/// to `[epsilon, 1 - epsilon]` (epsilon 1e-7; categorical cross-entropy first
/// renormalises rows to sum to 1). But when the prediction comes straight out
/// of a softmax (sigmoid) activation, Keras's TensorFlow backend finds the
/// logits behind it and computes the cross-entropy from them, unclipped
/// (`_get_logits` in keras/src/backend/tensorflow/nn.py); `evaluate` does the
/// same when given `logits`.
public enum Loss: Sendable, Equatable {
    case categoricalCrossentropy(fromLogits: Bool = false)
    case sparseCategoricalCrossentropy(fromLogits: Bool = false)
    case binaryCrossentropy(fromLogits: Bool = false)
    case meanSquaredError

    /// Keras's `backend.epsilon()`.
    public static let epsilon: Float = 1e-7

    /// The name Keras uses in `compile(loss=...)`.
    public var kerasName: String {
        switch self {
        case .categoricalCrossentropy: return "categorical_crossentropy"
        case .sparseCategoricalCrossentropy: return "sparse_categorical_crossentropy"
        case .binaryCrossentropy: return "binary_crossentropy"
        case .meanSquaredError: return "mean_squared_error"
        }
    }

    public var fromLogits: Bool {
        switch self {
        case .categoricalCrossentropy(let f), .sparseCategoricalCrossentropy(let f), .binaryCrossentropy(let f): return f
        case .meanSquaredError: return false
        }
    }

    /// Keras names (and aliases) to losses.
    public init?(kerasName: String, fromLogits: Bool = false) {
        switch kerasName {
        case "categorical_crossentropy", "CategoricalCrossentropy": self = .categoricalCrossentropy(fromLogits: fromLogits)
        case "sparse_categorical_crossentropy", "SparseCategoricalCrossentropy": self = .sparseCategoricalCrossentropy(fromLogits: fromLogits)
        case "binary_crossentropy", "BinaryCrossentropy": self = .binaryCrossentropy(fromLogits: fromLogits)
        case "mean_squared_error", "mse", "MeanSquaredError": self = .meanSquaredError
        default: return nil
        }
    }

    /// The output activations whose logits this loss uses instead of the probabilities.
    public var logitActivations: Set<Activation> {
        if fromLogits { return [] }
        switch self {
        case .categoricalCrossentropy, .sparseCategoricalCrossentropy: return [.softmax]
        case .binaryCrossentropy: return [.sigmoid]
        case .meanSquaredError: return []
        }
    }

    /// Elements of the target per output row (1 for sparse labels).
    func targetRowLength(outputRowLength: Int) -> Int {
        if case .sparseCategoricalCrossentropy = self { return 1 }
        return outputRowLength
    }

    /// The summed loss of a chunk of a batch and its gradient.
    /// - Parameters:
    ///   - output: the model output, `[n, ..., classes]`.
    ///   - logits: the pre-activation behind `output` when it came from one of
    ///     `logitActivations` (see `TrainingGraph.logits`), else nil.
    ///   - target: same shape as `output`; for sparse losses the class indices
    ///     as floats, one per output row (`[n]` or `[n, ..., 1]`).
    ///   - batchSize: samples in the *whole* batch: gradients are of the batch
    ///     mean, so chunk gradients add up to the batch's.
    /// - Returns: the sum over this chunk's samples of the per-sample loss
    ///   (each the mean over its rows), and dLoss/d(output or logits).
    public func evaluate(output: Tensor, logits: Tensor?, target: Tensor, batchSize: Int)
        -> (lossSum: Double, gradient: TrainingGraph.OutputGradient) {
        let c = output.shape.last ?? 1
        let rows = output.count / c
        let samples = output.batchCount
        let rowsPerSample = samples == 0 ? 1 : rows / samples
        precondition(target.count == rows * targetRowLength(outputRowLength: c),
                     "target shape \(target.shape) does not fit output shape \(output.shape) for \(kerasName)")
        let useLogits = logits != nil && !fromLogits
        let z = fromLogits ? output : (logits ?? output)
        var grad = Tensor(zeros: output.shape)
        // Gradient of the batch mean over rows.
        let scale = 1 / Float(batchSize * rowsPerSample)
        var total: Double = 0
        let eps = Loss.epsilon
        z.scalars.withUnsafeBufferPointer { x in
        target.scalars.withUnsafeBufferPointer { t in
        grad.scalars.withUnsafeMutableBufferPointer { g in
            for r in 0..<rows {
                let o = r * c
                switch self {
                case .categoricalCrossentropy, .sparseCategoricalCrossentropy:
                    let sparse: Int? = { if case .sparseCategoricalCrossentropy = self { return Int(t[r]) } else { return nil } }()
                    if let s = sparse { precondition(s >= 0 && s < c, "label \(t[r]) outside 0..<\(c)") }
                    func target(_ j: Int) -> Float { sparse.map { $0 == j ? 1 : 0 } ?? t[o + j] }
                    if useLogits || fromLogits {
                        // softmax cross-entropy with logits: sum_j t_j (lse - z_j); d/dz_j = softmax_j * sum(t) - t_j
                        var m = -Float.infinity
                        for j in 0..<c { m = max(m, x[o + j]) }
                        var sum: Float = 0
                        for j in 0..<c { sum += Foundation.exp(x[o + j] - m) }
                        let lse = m + Foundation.log(sum)
                        var loss: Float = 0, tsum: Float = 0
                        for j in 0..<c { let tj = target(j); loss += tj * (lse - x[o + j]); tsum += tj }
                        total += Double(loss)
                        for j in 0..<c { g[o + j] = (Foundation.exp(x[o + j] - lse) * tsum - target(j)) * scale }
                    } else if let s = sparse {
                        // Keras: log(clip(p)) fed to sparse softmax cross-entropy as logits.
                        var sum: Float = 0
                        for j in 0..<c { sum += min(max(x[o + j], eps), 1 - eps) }
                        let ps = min(max(x[o + s], eps), 1 - eps)
                        total += Double(Foundation.log(sum) - Foundation.log(ps))
                        for j in 0..<c {
                            let p = x[o + j]
                            guard p >= eps && p <= 1 - eps else { continue }
                            g[o + j] = (p / sum - (j == s ? 1 : 0)) / p * scale
                        }
                    } else {
                        // Renormalise, clip, -sum t log q; back through the renormalisation.
                        var sum: Float = 0
                        for j in 0..<c { sum += x[o + j] }
                        var loss: Float = 0, dot: Float = 0
                        for j in 0..<c {
                            let q = x[o + j] / sum
                            loss -= t[o + j] * Foundation.log(min(max(q, eps), 1 - eps))
                            let dq: Float = q >= eps && q <= 1 - eps ? -t[o + j] / q : 0
                            g[o + j] = dq
                            dot += dq * q
                        }
                        total += Double(loss)
                        for j in 0..<c { g[o + j] = (g[o + j] - dot) / sum * scale }
                    }
                case .binaryCrossentropy:
                    var loss: Float = 0
                    for j in 0..<c {
                        let tj = t[o + j], v = x[o + j]
                        if useLogits || fromLogits {
                            // max(z, 0) - z t + log(1 + e^-|z|); d/dz = sigmoid(z) - t
                            loss += max(v, 0) - v * tj + Foundation.log1p(Foundation.exp(-abs(v)))
                            g[o + j] = (1 / (1 + Foundation.exp(-v)) - tj) * scale / Float(c)
                        } else {
                            let p = min(max(v, eps), 1 - eps)
                            loss -= tj * Foundation.log(p) + (1 - tj) * Foundation.log(1 - p)
                            g[o + j] = v >= eps && v <= 1 - eps ? (-tj / p + (1 - tj) / (1 - p)) * scale / Float(c) : 0
                        }
                    }
                    total += Double(loss / Float(c))
                case .meanSquaredError:
                    var loss: Float = 0
                    for j in 0..<c {
                        let d = x[o + j] - t[o + j]
                        loss += d * d
                        g[o + j] = 2 * d * scale / Float(c)
                    }
                    total += Double(loss / Float(c))
                }
            }
        }
        }
        }
        let gradient: TrainingGraph.OutputGradient = useLogits ? .logits(grad) : .output(grad)
        return (total / Double(rowsPerSample), gradient)
    }
}
