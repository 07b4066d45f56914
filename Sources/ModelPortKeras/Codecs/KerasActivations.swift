import ModelPortRuntime

/// Keras activation layers: `ReLU` (and `LeakyReLU`), `ELU`, `PReLU`, `Softmax`.
extension KerasCodecs {
    static let activations = KerasFamily("activations", [
        AnyKerasCodec(relu), AnyKerasCodec(elu), AnyKerasCodec(prelu), AnyKerasCodec(softmax),
    ])

    /// `ReLU(max_value, negative_slope, threshold)`; `LeakyReLU`: `alpha`
    /// (Keras 2) or `negative_slope` (Keras 3), default 0.3.
    static let relu = KerasCodec<ReLU>(classNames: ["ReLU", "LeakyReLU"], decode: { a, _ in
        if a.className == "LeakyReLU" {
            let slope = a.config["negative_slope"].map { _ in "negative_slope" } ?? "alpha"
            return ReLU(name: a.name, negativeSlope: try a.float(slope, default: 0.3), kind: .leaky)
        }
        let maxValue = a.value("max_value").flatMap(\.number).map(Float.init)
        return ReLU(name: a.name, maxValue: maxValue, negativeSlope: try a.float("negative_slope", default: 0),
                    threshold: try a.float("threshold", default: 0))
    }, encode: { r, g in
        switch r.kind {
        case .leaky:
            guard r.maxValue == nil, r.threshold == 0 else { throw unsupported(r, "a LeakyReLU with a maximum or threshold has no Keras config") }
            return [g == .keras3 ? "negative_slope" : "alpha": num(r.negativeSlope)]
        case .relu:
            return ["max_value": r.maxValue.map { num($0) } ?? .null, "negative_slope": num(r.negativeSlope), "threshold": num(r.threshold)]
        }
    })

    static let elu = KerasCodec<ELU>(classNames: ["ELU"], decode: { a, _ in
        ELU(name: a.name, alpha: try a.float("alpha", default: 1))
    }, encode: { e, _ in ["alpha": num(e.alpha)] })

    /// Weight alpha: the input shape with the `shared_axes` set to 1.
    static let prelu = KerasCodec<PReLU>(classNames: ["PReLU"], decode: { a, inputShape in
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
    }, encode: { p, _ in ["shared_axes": p.sharedAxes.isEmpty ? .null : ints(p.sharedAxes)] })

    /// `axis` counts the batch axis: -1 is the last axis, k > 0 is sample axis k - 1.
    static let softmax = KerasCodec<Softmax>(classNames: ["Softmax"], decode: { a, inputShape in
        let v = a.value("axis")
        let axis = v?.int ?? v?.array?.first?.int ?? -1
        if let list = v?.array, list.count != 1 { throw a.error("only one axis is supported", argument: "axis") }
        let sampleAxis = axis < 0 ? inputShape.count + axis : axis - 1
        guard sampleAxis >= 0, sampleAxis < inputShape.count else {
            throw a.error("axis \(axis) is not a sample axis of \(inputShape)", argument: "axis")
        }
        return Softmax(name: a.name, axis: sampleAxis)
    }, encode: { s, _ in ["axis": .number(Double(s.axis + 1))] })
}
