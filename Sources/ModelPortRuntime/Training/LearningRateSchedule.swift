import Foundation

/// A learning rate, constant or a function of the optimizer step, as Keras's
/// `keras.optimizers.schedules` compute it (in float32, at the step count
/// *before* the update, i.e. `optimizer.iterations`).
public enum LearningRateSchedule: Sendable, Equatable {
    case constant(Float)
    /// `initial * decayRate ^ (step / decaySteps)`, the exponent floored when `staircase`.
    case exponentialDecay(initial: Float, decaySteps: Int, decayRate: Float, staircase: Bool = false)
    /// Optional linear warm-up from `initial` to `warmupTarget` over
    /// `warmupSteps`, then `from * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decaySteps)) + alpha)`
    /// with `s` capped at `decaySteps` and `from` the warm-up target (or `initial`).
    case cosineDecay(initial: Float, decaySteps: Int, alpha: Float = 0, warmupTarget: Float? = nil, warmupSteps: Int = 0)

    public func value(at step: Int) -> Float {
        switch self {
        case .constant(let lr):
            return lr
        case let .exponentialDecay(initial, decaySteps, decayRate, staircase):
            var p = Float(step) / Float(decaySteps)
            if staircase { p = p.rounded(.down) }
            return initial * Foundation.pow(decayRate, p)
        case let .cosineDecay(initial, decaySteps, alpha, warmupTarget, warmupSteps):
            func decay(_ s: Float, from lr: Float) -> Float {
                let fraction = s / Float(decaySteps)
                let cosine = 0.5 * (1 + Foundation.cos(Float.pi * fraction))
                return lr * ((1 - alpha) * cosine + alpha)
            }
            guard let target = warmupTarget else {
                return decay(min(Float(step), Float(decaySteps)), from: initial)
            }
            let s = min(Float(step), Float(decaySteps + warmupSteps))
            if s < Float(warmupSteps) {
                return (target - initial) * (s / Float(warmupSteps)) + initial
            }
            return decay(s - Float(warmupSteps), from: target)
        }
    }
}
