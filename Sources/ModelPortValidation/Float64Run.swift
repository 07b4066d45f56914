import ModelPortRuntime

/// A model run a second time in double precision: every layer computed
/// directly from its definition (plain loops over `Double`, no kernels, no
/// reordering tricks), from the same weights. Its outputs are the "true"
/// values the float32 runs of ModelPort and of the reference framework are
/// both approximations of, so each one's own rounding error can be measured
/// (see `RoundingVerdict`).
///
/// Slow by design (a direct convolution in float64): meant for validation
/// on a few samples, not for serving.
public enum Float64Run {
    /// A double-precision tensor, batch first, row-major.
    public struct Values: Sendable {
        public var shape: [Int]
        public var scalars: [Double]

        public init(shape: [Int], scalars: [Double]) {
            precondition(scalars.count == shape.reduce(1, *))
            self.shape = shape
            self.scalars = scalars
        }

        init(_ t: Tensor) { self.init(shape: t.shape, scalars: t.scalars.map(Double.init)) }

        var count: Int { scalars.count }
        var batch: Int { shape[0] }
        var sampleShape: [Int] { Array(shape.dropFirst()) }
    }

    /// Layer types the double-precision run computes (runtime type names).
    /// - Throws: `RuntimeError` naming the first layer it cannot compute.
    public static func checkSupported(_ model: any Model) throws {
        for layer in model.layers {
            if let nested = layer as? ModelLayer {
                try checkSupported(nested.model)
            } else if !Float64Layers.supports(layer) {
                throw RuntimeError("layer '\(layer.name)' (\(layer.typeName)) has no float64 definition in ModelPort's validator")
            }
        }
    }

    /// `model`'s outputs for `inputs`, computed in double precision.
    /// - Throws: `RuntimeError` for a layer without a float64 definition.
    public static func outputs(_ model: any Model, inputs: [Tensor]) throws -> [Values] {
        try checkSupported(model)
        return try run(model, inputs.map(Values.init))
    }

    static func run(_ model: any Model, _ inputs: [Values]) throws -> [Values] {
        if let sequential = model as? Sequential {
            var x = inputs[0]
            for layer in sequential.layers { x = try apply(layer, [x]) }
            return [x]
        }
        guard let graph = model as? Functional else {
            throw RuntimeError("model '\(model.name)' is neither Sequential nor Functional")
        }
        var values: [Values?] = Array(repeating: nil, count: graph.nodes.count)
        for (k, node) in graph.inputNodes.enumerated() { values[node] = inputs[k] }
        for (i, node) in graph.nodes.enumerated() where values[i] == nil {
            values[i] = try apply(node.layer, node.inputs.map { values[$0]! })
        }
        return graph.outputNodes.map { values[$0]! }
    }

    static func apply(_ layer: any Layer, _ inputs: [Values]) throws -> Values {
        if let nested = layer as? ModelLayer { return try run(nested.model, inputs)[0] }
        return try Float64Layers.apply(layer, inputs)
    }
}
