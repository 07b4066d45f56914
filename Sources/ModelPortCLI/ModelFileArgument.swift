import ArgumentParser
import ModelPortFormats

/// The model a command runs: a file of any format ModelPort reads, and the
/// config a weights-only file needs. Shared by validate, predict, bench and evaluate.
struct ModelFileArgument: ParsableArguments {
    @Argument(help: ArgumentHelp("A model file: Keras .h5 or .keras, ONNX .onnx, or Keras .weights.h5 with --config.", valueName: "model"))
    var model: String

    @Option(help: ArgumentHelp("A model config JSON (model.to_json(), a .keras archive's config.json), for a weights-only model file (.weights.h5).", valueName: "file"))
    var config: String?

    /// Reads the model (in an isolated process with `--untrusted`).
    /// - Throws: the reader's error, naming the file and the problem.
    func load() throws -> AnyModelFile {
        try AnyModelFile.load(model, configPath: config)
    }
}
