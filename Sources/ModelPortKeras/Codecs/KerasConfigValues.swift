import ModelPortRuntime

/// Config values spelled as Keras writes them.
func ints(_ values: [Int]) -> JSONValue { .array(values.map { .number(Double($0)) }) }

/// A pair such as `kernel_size`, `[a, b]`.
func pair(_ a: Int, _ b: Int) -> JSONValue { ints([a, b]) }

/// A float32 argument as the shortest decimal that reads back as the same
/// float (0.1, not 0.10000000149011612), as Keras wrote it.
func num(_ value: Float) -> JSONValue { .number(Double("\(value)") ?? Double(value)) }

/// `"data_format": "channels_last"`, the only layout ModelPort writes.
let channelsLast: JSONValue = .string("channels_last")

/// The Keras name of an activation in the target generation. Keras 2's and
/// Keras 3's `hard_sigmoid` differ, so each is written only for its own generation.
func activationName(_ a: Activation, _ g: KerasGeneration, _ layer: any Layer) throws -> JSONValue {
    switch (a, g) {
    case (.geluTanh, _): throw unsupported(layer, "the tanh approximation of gelu has no Keras activation name (Keras uses it only through keras.activations.gelu(approximate=True))")
    case (.hardSigmoidKeras2, .keras2): return .string("hard_sigmoid")
    case (.hardSigmoidKeras2, .keras3): throw unsupported(layer, "Keras 2's hard_sigmoid (0.2x + 0.5) does not exist in Keras 3; write this model with --keras-version 2")
    case (.hardSigmoid, .keras2): throw unsupported(layer, "Keras 3's hard_sigmoid (relu6(x + 3) / 6) does not exist in Keras 2; write this model with --keras-version 3")
    case (.silu, .keras2): return .string("swish")
    case (.hardSilu, .keras2), (.logSoftmax, .keras2), (.relu6, .keras2):
        throw unsupported(layer, "activation '\(a.rawValue)' does not exist in Keras 2; write this model with --keras-version 3")
    default: return .string(a.rawValue)
    }
}
