import Foundation
import ModelPortReports
import ModelPortRuntime
import ModelPortValidation
import Testing
import TestSupport

/// Metrics recomputed independently in the test, straight from the label and
/// prediction lists (scikit-learn's own figures are compared by tools/check_reports.py).
struct MetricsTests {
    /// Deterministic noisy predictions over 10 classes, class 7 never predicted.
    func sample(_ n: Int) -> (labels: [Int], predictions: [Int]) {
        var state: UInt64 = 12345
        func next() -> Int { state = state &* 6364136223846793005 &+ 1442695040888963407; return Int(state >> 33) }
        var labels: [Int] = [], predictions: [Int] = []
        for _ in 0..<n {
            let t = next() % 10
            var p = next() % 3 == 0 ? next() % 10 : t
            if p == 7 { p = 3 }
            labels.append(t); predictions.append(p)
        }
        return (labels, predictions)
    }

    @Test func reportMatchesCountsFromTheLists() {
        let (labels, predictions) = sample(500)
        let matrix = ConfusionMatrix(labels: labels, predictions: predictions, classCount: 10)
        let report = ClassificationReport(matrix, classNames: (0...9).map(String.init))
        #expect(matrix.total == 500)
        var f1s: [Double] = [], precisions: [Double] = [], recalls: [Double] = []
        for (c, row) in zip(0..<10, report.classes) {
            let tp = zip(labels, predictions).filter { $0 == c && $1 == c }.count
            let predicted = predictions.filter { $0 == c }.count
            let actual = labels.filter { $0 == c }.count
            let p = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let r = Double(tp) / Double(actual)
            let f = p + r == 0 ? 0 : 2 * p * r / (p + r)
            #expect(row.name == String(c) && row.support == actual)
            #expect(abs(row.precision - p) < 1e-12 && abs(row.recall - r) < 1e-12 && abs(row.f1 - f) < 1e-12)
            precisions.append(p); recalls.append(r); f1s.append(f)
        }
        #expect(report.classes[7].precision == 0)  // never predicted: 0, as scikit-learn's zero_division
        #expect(abs(report.macroAverage.f1 - f1s.reduce(0, +) / 10) < 1e-12)
        let weightedRecall = (0..<10).reduce(0.0) { sum, c in sum + recalls[c] * Double(labels.filter { $0 == c }.count) } / 500
        #expect(abs(report.weightedAverage.recall - weightedRecall) < 1e-12)
        #expect(abs(report.accuracy - Double(zip(labels, predictions).filter { $0 == $1 }.count) / 500) < 1e-12)
        // The text layout scikit-learn prints.
        let text = report.text()
        #expect(text.contains("precision    recall  f1-score   support"))
        #expect(text.contains("weighted avg"))
    }

    /// Classes absent from both lists get no row, as in scikit-learn.
    @Test func absentClassesHaveNoRow() {
        let matrix = ConfusionMatrix(labels: [0, 1, 1], predictions: [0, 1, 0], classCount: 4)
        let report = ClassificationReport(matrix, classNames: ["a", "b", "c", "d"])
        #expect(report.classes.map(\.name) == ["a", "b"])
        #expect(abs(report.macroAverage.precision - (0.5 + 1) / 2) < 1e-12)
    }

    /// Loss against the fixture's Keras outputs: mean of -log p[label] with
    /// Keras's clipping, computed here in Float64 from the reference file.
    @Test func lossAndAccuracyFromKerasOutputs() throws {
        let ref = try ReferenceData.read(TestPaths.fixture("mnist_digit_model.reference.h5"))
        let labels = try #require(ref.labels)
        let e = try Evaluation(probabilities: ref.outputs, labels: labels, classNames: (0...9).map(String.init), inputs: ref.inputs)
        var total = 0.0
        for (s, l) in labels.enumerated() {
            let row = (0..<10).map { Double(ref.outputs.scalars[s * 10 + $0]) }
            total += -log(min(max(row[l] / row.reduce(0, +), 1e-7), 1 - 1e-7))
        }
        #expect(abs(e.loss - total / Double(labels.count)) < 1e-12)
        #expect(e.predictions == argmaxPerSample(ref.outputs))
        let mistakes = e.confidentMistakes(limit: 5)
        #expect(mistakes.allSatisfy { e.predictions[$0] != labels[$0] })
        #expect(zip(mistakes, mistakes.dropFirst()).allSatisfy { e.confidence($0) >= e.confidence($1) })
        // A perfect prediction costs -log(1 - 1e-7).
        let perfect = try Evaluation(probabilities: Tensor(shape: [1, 2], scalars: [0, 1]), labels: [1], classNames: ["a", "b"])
        #expect(abs(perfect.loss + log(1 - 1e-7)) < 1e-15)
    }

    @Test func mismatchedShapesAreErrors() {
        #expect(throws: ReportError.self) { try Evaluation(probabilities: Tensor(zeros: [3, 10]), labels: [1, 2], classNames: (0...9).map(String.init)) }
        #expect(throws: ReportError.self) { try Evaluation(probabilities: Tensor(zeros: [2, 10]), labels: [1, 12], classNames: (0...9).map(String.init)) }
        #expect(throws: ReportError.self) { try Evaluation(probabilities: Tensor(zeros: [2, 3]), labels: [1, 2], classNames: (0...9).map(String.init)) }
    }
}
