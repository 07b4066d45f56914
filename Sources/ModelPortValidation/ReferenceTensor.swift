import ModelPortRuntime

/// One model input's or output's samples in a reference file.
///
/// A model with one input and one output has the single datasets `inputs`
/// and `outputs` (`name` is nil). A model with several has groups `inputs`
/// and `outputs` holding one dataset per input or output, named after it
/// (`inputs/<input layer name>`, `outputs/<output layer name>`, as Keras's
/// `[t.name for t in model.inputs]` and `model.output_names`).
public struct ReferenceTensor: Sendable {
    /// The dataset's name inside its group; nil for the single dataset.
    public let name: String?
    /// N x sample shape.
    public let values: Tensor

    public init(name: String?, values: Tensor) {
        self.name = name
        self.values = values
    }

    /// The dataset's path in the file ("inputs", "outputs/class"), for messages.
    func datasetPath(in group: String) -> String {
        name.map { "\(group)/\($0)" } ?? group
    }
}
