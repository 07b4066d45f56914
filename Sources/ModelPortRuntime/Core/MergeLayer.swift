/// A layer that combines several inputs into one output (Add, Concatenate, ...).
///
/// Used through a functional model's graph; the single-input `Layer`
/// requirements treat a lone input as a one-element list.
public protocol MergeLayer: Layer {
    /// The output sample shape for these input sample shapes.
    /// - Throws: `RuntimeError` when the shapes cannot be combined.
    func outputShape(forInputs shapes: [[Int]]) throws -> [Int]
    /// Inference forward pass over batches of equal size.
    func forward(inputs: [Tensor]) -> Tensor
}

extension MergeLayer {
    public func outputShape(for inputShape: [Int]) throws -> [Int] { try outputShape(forInputs: [inputShape]) }
    public func forward(_ input: Tensor) -> Tensor { forward(inputs: [input]) }
}
