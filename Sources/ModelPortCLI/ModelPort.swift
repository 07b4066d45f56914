import ArgumentParser

/// The `modelport` command: thin over the ModelPort libraries.
@main
struct ModelPort: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelport",
        abstract: "Run Keras models in Swift and prove the predictions match Keras.",
        discussion: """
            ModelPort reads Keras models saved as HDF5 (.h5, by Keras 2 or Keras 3) into a \
            native Swift runtime, runs them, and compares their predictions with reference \
            outputs element by element.

            Start with:
              modelport demo                                 the bundled MNIST model, end to end
              modelport inspect model.h5                     what is in a model file
              modelport predict model.h5 --input data.h5     predictions for a reference or IDX file
              modelport validate model.h5 --reference ref.h5 prove the outputs match Keras
              modelport evaluate model.h5                    loss, accuracy, confusion matrix on MNIST's test set
              modelport predict model.h5 digit.png           the digit in a photo, scan or drawing

            Exit status: 0 success; 1 outputs differ from the reference beyond the tolerance; \
            2 a file could not be used (the message names it and the problem); 64 bad usage.
            """,
        subcommands: [Demo.self, Inspect.self, Predict.self, Validate.self, Train.self, Evaluate.self, Bench.self, Convert.self, IsolatedLoad.self])
}
