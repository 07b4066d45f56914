import Foundation
import ModelPortRuntime

/// A model's predictions on a labelled set, with everything `evaluate`
/// reports: loss, accuracy, confusion matrix and classification report.
///
/// Layout: `probabilities` is `[N, classes]` (the model's softmax outputs);
/// `inputs`, when given, is the NHWC batch the model saw (`[N, 28, 28, 1]`),
/// used only to draw sample digits in reports.
public struct Evaluation: Sendable {
    public let classNames: [String]
    public let labels: [Int]
    public let probabilities: Tensor
    /// The arg-max class of each sample.
    public let predictions: [Int]
    /// Mean categorical cross-entropy, as Keras's `evaluate` reports it.
    public let loss: Double
    public let confusion: ConfusionMatrix
    public let report: ClassificationReport
    public let inputs: Tensor?

    public var accuracy: Double { report.accuracy }
    public var count: Int { labels.count }

    /// - Throws: `ReportError` when the shapes disagree or a label is not a class.
    public init(probabilities: Tensor, labels: [Int], classNames: [String], inputs: Tensor? = nil) throws {
        guard probabilities.rank == 2, probabilities.batchCount == labels.count else {
            throw ReportError("predictions of shape \(probabilities.shape) do not match \(labels.count) labels (expected [\(labels.count), classes])")
        }
        guard probabilities.shape[1] == classNames.count else {
            throw ReportError("the model outputs \(probabilities.shape[1]) classes but the dataset has \(classNames.count)")
        }
        if let bad = labels.first(where: { $0 < 0 || $0 >= classNames.count }) {
            throw ReportError("label \(bad) is not one of the \(classNames.count) classes")
        }
        if let inputs, inputs.batchCount != labels.count {
            throw ReportError("\(inputs.batchCount) input samples for \(labels.count) labels")
        }
        self.classNames = classNames
        self.labels = labels
        self.probabilities = probabilities
        self.inputs = inputs
        let c = classNames.count
        predictions = (0..<labels.count).map { s in
            var best = 0
            for j in 1..<max(1, c) where probabilities.scalars[s * c + j] > probabilities.scalars[s * c + best] { best = j }
            return best
        }
        loss = Self.categoricalCrossEntropy(probabilities, labels: labels)
        confusion = ConfusionMatrix(labels: labels, predictions: predictions, classCount: c)
        report = ClassificationReport(confusion, classNames: classNames)
    }

    /// Keras's `categorical_crossentropy` with `from_logits=False`, averaged
    /// over samples: each row is divided by its sum, clipped to
    /// [1e-7, 1 - 1e-7] (Keras's epsilon), and the loss is -log p[label].
    public static func categoricalCrossEntropy(_ probabilities: Tensor, labels: [Int]) -> Double {
        let c = probabilities.shape[1]
        let epsilon = 1e-7
        var total = 0.0
        for (s, label) in labels.enumerated() {
            let row = probabilities.scalars[(s * c)..<((s + 1) * c)]
            let sum = row.reduce(0.0) { $0 + Double($1) }
            let p = min(max(Double(row[row.startIndex + label]) / sum, epsilon), 1 - epsilon)
            total -= log(p)
        }
        return labels.isEmpty ? 0 : total / Double(labels.count)
    }

    /// The probability the model gave its own prediction for sample `s`.
    public func confidence(_ s: Int) -> Double {
        Double(probabilities.scalars[s * classNames.count + predictions[s]])
    }

    /// Wrong predictions, most confident first (ties by index).
    public func confidentMistakes(limit: Int) -> [Int] {
        (0..<count).filter { predictions[$0] != labels[$0] }
            .sorted { (confidence($0), -$0) > (confidence($1), -$1) }
            .prefix(limit).map { $0 }
    }

    /// What `modelport evaluate --json` prints: loss, accuracy, confusion
    /// matrix (rows true, columns predicted), the classification report in
    /// scikit-learn's `output_dict` layout, and the per-sample labels and predictions.
    public var jsonObject: [String: Any] {
        [
            "samples": count, "loss": loss, "accuracy": accuracy, "class_names": classNames,
            "confusion_matrix": confusion.counts, "classification_report": report.dictionary,
            "labels": labels, "predictions": predictions,
        ]
    }
}

/// A report that cannot be made, with the reason.
public struct ReportError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ message: String) { description = message }
}
