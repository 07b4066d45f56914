import ModelPortRuntime

/// Keras `ReLU(max_value, negative_slope, threshold)`.
func makeReLU(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let maxValue = a.value("max_value").flatMap(\.number).map(Float.init)
    return ReLU(name: a.name, maxValue: maxValue, negativeSlope: try a.float("negative_slope", default: 0),
                threshold: try a.float("threshold", default: 0))
}

/// Keras `LeakyReLU`: `alpha` (Keras 2) or `negative_slope` (Keras 3), default 0.3.
func makeLeakyReLU(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let slope = a.config["negative_slope"].map { _ in "negative_slope" } ?? "alpha"
    return ReLU(name: a.name, negativeSlope: try a.float(slope, default: 0.3), kind: .leaky)
}

/// Keras `ELU(alpha)`.
func makeELU(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    ELU(name: a.name, alpha: try a.float("alpha", default: 1))
}

/// Keras `PReLU(shared_axes)`: weight alpha, the input shape with shared axes set to 1.
func makePReLU(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    a.ignore("alpha_initializer", "alpha_regularizer", "alpha_constraint")
    var shared: [Int] = []
    if let v = a.value("shared_axes") {
        shared = v.array?.compactMap(\.int) ?? (v.int.map { [$0] } ?? [])
        guard shared.allSatisfy({ (1...inputShape.count).contains($0) }) else {
            throw a.error("axes \(v.compactText) are not sample axes of \(inputShape)", argument: "shared_axes")
        }
    }
    let alphaShape = inputShape.enumerated().map { shared.contains($0.offset + 1) ? 1 : $0.element }
    try a.checkParameterShape(alphaShape, argument: "shared_axes")
    return PReLU(name: a.name, inputShape: inputShape, sharedAxes: shared)
}

/// Keras `Softmax(axis)`.
func makeSoftmax(_ a: inout LayerArguments, _ inputShape: [Int]) throws -> any Layer {
    let v = a.value("axis")
    let axis = v?.int ?? v?.array?.first?.int ?? -1
    if let list = v?.array, list.count != 1 { throw a.error("only one axis is supported", argument: "axis") }
    // Keras counts the batch axis: -1 is the last axis, k > 0 is sample axis k - 1.
    let sampleAxis = axis < 0 ? inputShape.count + axis : axis - 1
    guard sampleAxis >= 0, sampleAxis < inputShape.count else {
        throw a.error("axis \(axis) is not a sample axis of \(inputShape)", argument: "axis")
    }
    return Softmax(name: a.name, axis: sampleAxis)
}
