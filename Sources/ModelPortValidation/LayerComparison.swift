import ModelPortRuntime

/// Every layer's output compared with the reference framework's, in
/// execution order, to find where a model first diverges.
///
/// Each layer is judged against its own magnitude: an element passes when
/// `|modelport - reference| <= atol * max(1, m) + rtol * |reference|`, m the
/// largest |reference| value of that layer. float32 rounding grows with the
/// values summed, so a deep network's large intermediate activations differ
/// from Keras's by more than an absolute 1e-5 while its outputs agree; an
/// error that is large for the layer's own values still diverges.
public struct LayerComparison: Sendable {
    public struct Row: Sendable {
        public let layer: String
        public let typeName: String
        /// Shape of one sample of the layer's output.
        public let shape: [Int]
        /// Nil when the reference has no output for this layer.
        public let maxAbsoluteError: Float?
        public let elementsOutsideTolerance: Int
        /// The largest |reference| value of the layer (0 without a reference).
        public let magnitude: Float
        /// The absolute tolerance the layer was judged with, `atol * max(1, magnitude)`.
        public let tolerance: Float
        public var passed: Bool { maxAbsoluteError != nil && elementsOutsideTolerance == 0 }
    }

    public let samples: Int
    public let rows: [Row]
    public let atol: Float
    public let rtol: Float

    /// The first layer (in execution order) whose output is outside tolerance.
    public var firstDivergence: Row? { rows.first { $0.maxAbsoluteError != nil && !$0.passed } }
    /// Layers the reference has no output for.
    public var unchecked: [String] { rows.filter { $0.maxAbsoluteError == nil }.map(\.layer) }

    /// Runs `model` on the samples the reference has per-layer outputs for
    /// (every input of a model with several, matched as `ReferenceData.inputs(for:modelPath:)`).
    /// - Parameter modelPath: the model's file, for messages.
    /// - Throws: `ReferenceError` when the reference holds no per-layer
    ///   outputs or its inputs do not fit the model.
    public init(model: any Model, reference: ReferenceData, modelPath: String = "the model",
                atol: Float = 1e-5, rtol: Float = 0) throws {
        guard let m = reference.layerOutputs.values.map(\.batchCount).min(), m > 0 else {
            throw ReferenceError("\(reference.path): no per-layer outputs ('layers/<layer name>' datasets) to compare")
        }
        let inputs = try reference.inputs(for: model, modelPath: modelPath).map { $0.batch(0..<m) }
        self.samples = m
        self.atol = atol
        self.rtol = rtol
        let outputs = model.layerOutputs(inputs: inputs)
        let types = Dictionary(model.layers.map { ($0.name, $0.typeName) }, uniquingKeysWith: { a, _ in a })
        rows = outputs.compactMap { layer, actual in
            if types[layer] == "InputLayer" { return nil }
            guard let expected = reference.layerOutputs[layer] else {
                return Row(layer: layer, typeName: types[layer] ?? "?", shape: actual.sampleShape,
                           maxAbsoluteError: nil, elementsOutsideTolerance: 0, magnitude: 0, tolerance: atol)
            }
            let e = expected.batch(0..<m)
            let magnitude = e.scalars.reduce(Float(0)) { max($0, abs($1)) }
            let tolerance = atol * max(1, magnitude.isFinite ? magnitude : 1)
            guard let c = try? Comparison(actual: actual, expected: e, atol: tolerance, rtol: rtol) else {
                // Shapes differ: every element counts as outside tolerance.
                return Row(layer: layer, typeName: types[layer] ?? "?", shape: actual.sampleShape,
                           maxAbsoluteError: .infinity, elementsOutsideTolerance: max(1, e.count), magnitude: magnitude, tolerance: tolerance)
            }
            return Row(layer: layer, typeName: types[layer] ?? "?", shape: actual.sampleShape,
                       maxAbsoluteError: c.maxAbsoluteError, elementsOutsideTolerance: c.elementsOutsideTolerance,
                       magnitude: magnitude, tolerance: tolerance)
        }
    }
}
