import ModelPortRuntime

/// What a saved model file holds of its optimizer's variables.
public enum SavedOptimizerState: Equatable, Sendable {
    /// No variables were saved (`/optimizer_weights` or `optimizer/vars`
    /// missing): the optimizer is untouched.
    case absent
    /// The step count and every slot were restored; training continues from
    /// update `iterations`.
    case restored(iterations: Int)
}

/// How fine-tuning a saved Keras model continues its optimizer.
public enum KerasOptimizerResumption {
    /// The file was never compiled (no `training_config`/`compile_config`):
    /// nothing to continue.
    case notCompiled
    /// Compiled without a saved optimizer: Keras itself then falls back to
    /// RMSprop and drops the state, so the caller's optimizer starts fresh.
    case noOptimizerRecorded
    /// The saved optimizer's class and settings, with fresh state (the file
    /// holds no optimizer variables).
    case fresh(Optimizer)
    /// The saved optimizer with its step count and slots.
    case continued(Optimizer)

    /// Reads how `file` continues its optimizer: its class and settings from
    /// `training_config` (or `compile_config`), its state from
    /// `/optimizer_weights` (.h5) or `model.weights.h5`'s `optimizer/vars` (.keras).
    /// - Parameters:
    ///   - model: the model read from `file` (its trainable parameters, in order).
    ///   - learningRate: replaces the saved learning rate (before the state is
    ///     read, which for a constant rate restores Keras's saved value).
    /// - Throws: `KerasImportError` for an optimizer ModelPort does not
    ///   implement, or saved state that does not fit the model.
    public static func read(_ file: KerasModelFile, model: any Model, learningRate: Float? = nil) throws -> KerasOptimizerResumption {
        guard let training = file.trainingConfig else { return .notCompiled }
        if training["optimizer_config"] == nil, training["optimizer"]?.isNull ?? true { return .noOptimizerRecorded }
        let optimizer = try KerasOptimizerState.optimizer(fromTrainingConfig: training, file: file.path)
        if let learningRate { optimizer.learningRate = .constant(learningRate) }
        let state: SavedOptimizerState
        switch file.format {
        case .legacyH5: state = try KerasOptimizerState.restoreIfSaved(optimizer, model: model, fromH5: file.path)
        case .kerasArchive: state = try KerasOptimizerState.restoreIfSaved(optimizer, model: model, fromKerasArchive: file.path)
        case .weightsH5: state = .absent
        }
        return state == .absent ? .fresh(optimizer) : .continued(optimizer)
    }
}
