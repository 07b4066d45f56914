/// Keras's default weight initialisers, with a seed: kernels
/// `glorot_uniform`, biases and BatchNormalization's beta/moving mean zeros,
/// gamma/moving variance ones. The random stream is ModelPort's own
/// (SplitMix64), so values differ from Keras's draws but follow the same
/// distribution.
public enum Initializers {
    /// `glorot_uniform`: U(-limit, limit), `limit = sqrt(6 / (fan_in + fan_out))`,
    /// with Keras's fans: a Dense kernel `(in, out)` has fan_in = in,
    /// fan_out = out; a convolution kernel `(kh, kw, in, out)` multiplies both
    /// by the receptive field kh * kw.
    public static func glorotUniform(shape: [Int], seed: UInt64) -> Tensor {
        let (fanIn, fanOut) = fans(shape)
        let limit = (6 / Float(max(1, fanIn + fanOut))).squareRoot()
        var rng = SplitMix64(seed: seed)
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, scalars: (0..<n).map { _ in (rng.nextFloat() * 2 - 1) * limit })
    }

    /// Keras's `compute_fans`.
    static func fans(_ shape: [Int]) -> (Int, Int) {
        switch shape.count {
        case 0: return (1, 1)
        case 1: return (shape[0], shape[0])
        case 2: return (shape[0], shape[1])
        default:
            let receptive = shape.dropLast(2).reduce(1, *)
            return (shape[shape.count - 2] * receptive, shape[shape.count - 1] * receptive)
        }
    }

    /// Sets every parameter of `model` to Keras's default initial value for
    /// a parameter of its name; each parameter draws from its own stream
    /// derived from `seed` and its position, so adding a layer at the end
    /// does not change the others.
    public static func initialize(_ model: any Model, seed: UInt64) {
        for (l, layer) in model.layers.enumerated() {
            for (p, parameter) in layer.parameters.enumerated() {
                let stream = SplitMix64.mix(SplitMix64.mix(seed ^ UInt64(l) << 32) ^ UInt64(p))
                switch parameter.name {
                case "kernel", "depthwise_kernel", "pointwise_kernel", "embeddings":
                    parameter.value = glorotUniform(shape: parameter.shape, seed: stream)
                case "gamma", "moving_variance", "variance":
                    parameter.value = Tensor(shape: parameter.shape, scalars: [Float](repeating: 1, count: parameter.value.count))
                default:  // bias, beta, moving_mean, mean, alpha (PReLU)
                    parameter.value = Tensor(zeros: parameter.shape)
                }
            }
        }
    }
}
