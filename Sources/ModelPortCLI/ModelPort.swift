import ArgumentParser

/// The `modelport` command: thin over the ModelPort libraries.
@main
struct ModelPort: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modelport",
        abstract: "Run Keras models in Swift and prove the predictions match Keras.",
        discussion: """
            ModelPort reads Keras models (.h5 from Keras 2 or Keras 3, .keras archives, \
            .weights.h5 with a config) and ONNX files into a native Swift runtime, runs and \
            trains them, converts between the formats, and compares predictions with \
            reference outputs element by element.

            Start with:
              modelport demo                                 the bundled MNIST model, end to end
              modelport inspect model.h5                     what is in a model file
              modelport predict model.h5 --input data.h5     predictions for a reference or IDX file
              modelport validate model.h5 --reference ref.h5 prove the outputs match Keras
              modelport evaluate model.h5                    loss, accuracy, confusion matrix on MNIST's test set
              modelport predict model.h5 digit.png           the digit in a photo, scan or drawing
              modelport convert model.h5 model.onnx          to ONNX (or .keras, .h5), verified against the source
              modelport train --arch mnist_digit_model       train natively, save a Keras file
              modelport bench model.h5                       throughput and latency on this machine

            Files from strangers: add --untrusted to read them in an isolated, \
            resource-limited process.

            Exit status: 0 success; 1 outputs differ from the reference beyond the tolerance; \
            2 a file could not be used (the message names it and the problem); 64 bad usage.
            """,
        subcommands: [Demo.self, Inspect.self, Predict.self, Validate.self, Train.self, Evaluate.self, Bench.self, Convert.self, Serve.self, IsolatedLoad.self])
}
