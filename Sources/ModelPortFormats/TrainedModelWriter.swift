import ModelPortFiles
import ModelPortKeras
import ModelPortONNX
import ModelPortRuntime

/// Saving a model ModelPort trained, in the format its path's extension
/// names: what `modelport train --out` and its checkpoints write.
public enum TrainedModelWriter {
    /// Writes `model` to `path` (atomically): `.h5`/`.keras` with Keras's
    /// `training_config` and the optimizer state in Keras's layout (so Keras
    /// can compile and continue it), `.weights.h5` with the weights only,
    /// `.onnx` for inference.
    /// - Parameter generation: the layout of an `.h5` (Keras 3, or tf-keras).
    /// - Throws: `RuntimeError` for an extension that names no format; the
    ///   writer's error, naming the file (and the layer a format cannot express).
    public static func write(_ model: any Model, optimizer: Optimizer, loss: Loss, to path: String,
                             generation: KerasGeneration = .keras3) throws {
        switch ModelConversion.Target(path: path) {
        case .onnx:
            try ONNXExporter.write(model, to: path, options: ONNXExportOptions())
        case .keras:
            let keras3 = generation == .keras3
            let options = KerasSaveOptions(
                generation: generation,
                trainingConfig: KerasOptimizerState.trainingConfig(optimizer: optimizer, loss: loss, keras3: keras3),
                optimizerWeights: KerasOptimizerState.kerasWeights(of: optimizer, model: model, keras3: keras3))
            try KerasWriter.write(model, to: path, options: options)
        case nil:
            throw RuntimeError("\(DisplayPath(path)): cannot tell the output format: use .h5, .keras, .weights.h5 or .onnx")
        }
    }
}
