import ArgumentParser
import Foundation
import ModelPortFormats
import ModelPortData
import ModelPortReports
import ModelPortRuntime

struct Evaluate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure a model on a labelled test set: loss, accuracy, confusion matrix, per-class report.",
        discussion: """
            Runs the model on every test image (MNIST's 10,000 by default) and prints:
              loss       mean categorical cross-entropy of the model's probabilities (what Keras's \
            model.evaluate reports)
              accuracy   the share of samples whose most probable class is the true one
              a confusion matrix (rows: true class, columns: predicted class)
              a classification report: precision, recall, F1 and support per class, with macro \
            and weighted averages (the figures of scikit-learn's classification_report)

            The dataset is found in this order: --data DIR, $MNIST_DIR ($FASHION_MNIST_DIR), \
            ../shared/data/<name> beside the working directory or the checkout, \
            /usr/share/datasets/<name>, then the cache (~/.cache/modelport, or $MODELPORT_CACHE_DIR), \
            which is filled by downloading from the dataset's canonical mirrors with SHA-256 \
            verification. --images DIR uses a folder of your own images instead, one sub-folder per class.

            --json prints one object: loss, accuracy, the confusion matrix, the classification \
            report in scikit-learn's output_dict layout, labels and predictions, model and dataset.

            Examples:
              modelport evaluate fixtures/mnist_digit_model.h5
              modelport evaluate model.h5 --dataset fashion-mnist --limit 1000
              modelport evaluate model.h5 --json | jq .accuracy
              modelport evaluate model.h5 --report out/report     # then open out/report/report.html
              modelport evaluate model.h5 --images fixtures/images/by-class
            """)

    @OptionGroup var modelFile: ModelFileArgument
    var model: String { modelFile.model }

    @OptionGroup var data: DatasetOptions

    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup var format: OutputFormatOptions
    var json: Bool { format.json }

    @Option(help: ArgumentHelp("Also write an HTML report with pictures (confusion matrix heatmap, sample digits, most confident mistakes) into this directory.", valueName: "dir"))
    var report: String?

    @OptionGroup var trust: TrustOptions

    func run() throws {
        trust.apply()
        try runReportingErrors {
            runtime.apply()
            let file = try modelFile.load()
            let set = try data.load().reshapedSamples(file.model.inputShape)
            try MemoryBudget.checkInference(file.model, batch: set.images.batchCount, file: model)
            let probabilities = try file.model.predict(set.images)
            // Argmax over NaN would count as class 0, and loss and accuracy mean nothing.
            let unpredicted = PredictedClasses(probabilities).unpredicted.count
            if unpredicted > 0 {
                let message = "\(model) produced NaN outputs for \(unpredicted) of \(probabilities.batchCount) samples of \(set.source): no loss or accuracy"
                if json {
                    let object: [String: Any] = ["model": model, "dataset": set.source, "samples": probabilities.batchCount,
                                                 "nan_samples": unpredicted, "error": message]
                    print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                }
                printError("error: " + message)
                throw ExitCode(1)
            }
            let evaluation = try Evaluation(probabilities: probabilities, labels: set.labels, classNames: set.classNames, inputs: set.images)
            if json {
                var object = evaluation.jsonObject
                object["model"] = model
                object["dataset"] = set.source
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                printText(evaluation, source: set.source)
            }
            if let report {
                let files = try writeEvaluationReport(evaluation, to: URL(fileURLWithPath: report), title: "Evaluation of \((model as NSString).lastPathComponent)",
                                                      details: [("Model", model), ("Data", set.source)])
                let message = "Report: \(files[0].path) (and \(files.count - 1) picture and data files beside it)"
                if json { printError(message) } else { print(message) }
            }
        }
    }

    private func printText(_ e: Evaluation, source: String) {
        print("Evaluated \(model) on \(grouped(e.count)) samples: \(source)")
        print("  loss      \(String(format: "%.4f", e.loss))   (categorical cross-entropy)")
        print("  accuracy  \(String(format: "%.4f", e.accuracy))   (\(grouped(e.confusion.correct))/\(grouped(e.count)))")
        print("\nConfusion matrix (rows: true class, columns: predicted class)")
        let names = e.classNames.count <= 10 && e.classNames.allSatisfy({ $0.count <= 2 }) ? e.classNames : e.classNames.indices.map(String.init)
        var table = TextTable(headers: ["true \\ pred"] + names, rightAligned: Set(1...names.count))
        for t in 0..<e.confusion.classCount {
            table.rows.append([names[t] + (names[t] == e.classNames[t] ? "" : " " + e.classNames[t])] + e.confusion.counts[t].map { String($0) })
        }
        print(table.render())
        print("\nClassification report")
        print(e.report.text())
    }
}
