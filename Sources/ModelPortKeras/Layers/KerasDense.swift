import ModelPortRuntime

/// Keras `Dense`: kernel `(inputs, units)`, then `bias` when `use_bias`.
func makeDense(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    guard let inputUnits = inputShape.last, inputUnits > 0 else {
        throw a.error("expects an input with a last axis, got \(inputShape)")
    }
    let units = try a.int("units", range: 1...16_777_216)
    let activation = try a.activation()
    let useBias = try a.bool("use_bias", default: true)
    // Keras 3 LoRA adapters and quantization change the weights stored.
    try a.require("lora_rank", oneOf: [.number(0)])
    try a.require("lora_alpha", oneOf: [])
    try a.require("quantization_config", oneOf: [])
    try a.checkParameterShape([inputUnits, units], argument: "units")
    if useBias { try a.checkParameterShape([units], argument: "units") }
    return Dense(name: a.name, inputUnits: inputUnits, units: units, activation: activation, useBias: useBias)
}
