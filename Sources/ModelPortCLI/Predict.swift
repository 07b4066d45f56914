import ArgumentParser
import Foundation
import ModelPortRuntime
import ModelPortValidation

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict the class of each sample in a reference file or an MNIST IDX file.",
        discussion: """
            The input is either a reference file (HDF5 with an 'inputs' dataset, see \
            'modelport validate --help') or an MNIST IDX image file, gzipped or not \
            (pixels are scaled to [0, 1] as the tutorials do). For an IDX file named like \
            MNIST's (…-images-idx3-ubyte), the matching labels file beside it is used to \
            report accuracy.

            Examples:
              modelport predict fixtures/mnist_digit_model.h5 --input fixtures/mnist_digit_model.reference.h5 --limit 5
              modelport predict model.h5 --input ../shared/data/mnist/t10k-images-idx3-ubyte.gz --top 3
            """)

    @Argument(help: "A Keras model file (.h5).")
    var model: String

    @Option(name: .shortAndLong, help: "Samples to predict: a reference .h5 file or an IDX image file (.gz or raw).")
    var input: String

    @Option(help: "IDX labels for an IDX image file (default: the matching MNIST labels file beside it).")
    var labels: String?

    @Option(help: "Predict only the first N samples.")
    var limit: Int?

    @Option(help: "How many of the most probable classes to show per sample.")
    var top: Int = 3

    @Flag(help: "Print JSON (one object with a 'predictions' array) instead of a table.")
    var json = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        try runReportingErrors {
            let file = try loadModel(model)
            let batch = try InputBatch.load(input, labelsPath: labels, sampleShape: file.model.inputShape, limit: limit)
            let outputs = try file.model.predict(batch.inputs)
            let classes = argmaxPerSample(outputs)
            let per = outputs.sampleCount
            let ranked: [[(Int, Float)]] = (0..<outputs.batchCount).map { s in
                let row = Array(outputs.sample(s))
                return row.enumerated().sorted { $0.element > $1.element }.prefix(min(top, per)).map { ($0.offset, $0.element) }
            }
            if json {
                var predictions: [[String: Any]] = []
                for s in 0..<classes.count {
                    var entry: [String: Any] = [
                        "index": s, "class": classes[s],
                        "probabilities": outputs.sample(s).map { Double($0) },
                        "top": ranked[s].map { ["class": $0.0, "probability": Double($0.1)] },
                    ]
                    if let l = batch.labels { entry["label"] = l[s] }
                    predictions.append(entry)
                }
                var object: [String: Any] = ["model": model, "input": input, "predictions": predictions]
                if let l = batch.labels { object["accuracy"] = Double(zip(classes, l).filter { $0 == $1 }.count) / Double(max(1, l.count)) }
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
                return
            }
            var headers = ["#", "class"]
            if batch.labels != nil { headers.append("label") }
            headers.append("top \(min(top, per)) (class: probability)")
            var table = TextTable(headers: headers, rightAligned: [0, 1, 2])
            for s in 0..<classes.count {
                var row = [String(s), String(classes[s])]
                if let l = batch.labels { row.append(String(l[s]) + (l[s] == classes[s] ? "" : " ✗")) }
                row.append(ranked[s].map { "\($0.0): \(String(format: "%.4f", Double($0.1)))" }.joined(separator: "  "))
                table.rows.append(row)
            }
            print(table.render())
            var summary = "\(classes.count) samples from \(batch.description)"
            if let l = batch.labels {
                let correct = zip(classes, l).filter { $0 == $1 }.count
                summary += "; accuracy \(correct)/\(l.count) = \(percent(correct, l.count))"
            }
            print(summary)
        }
    }
}
