/// Counts of (true class, predicted class) pairs.
public struct ConfusionMatrix: Sendable, Equatable {
    public let classCount: Int
    /// `counts[t][p]`: samples of true class `t` predicted as `p` (rows true, columns predicted, as scikit-learn).
    public private(set) var counts: [[Int]]

    /// - Precondition: equal lengths; every value in `0..<classCount`.
    public init(labels: [Int], predictions: [Int], classCount: Int) {
        precondition(labels.count == predictions.count, "\(labels.count) labels but \(predictions.count) predictions")
        self.classCount = classCount
        counts = Array(repeating: Array(repeating: 0, count: classCount), count: classCount)
        for (t, p) in zip(labels, predictions) {
            precondition((0..<classCount).contains(t) && (0..<classCount).contains(p), "class outside 0..<\(classCount)")
            counts[t][p] += 1
        }
    }

    public var total: Int { counts.reduce(0) { $0 + $1.reduce(0, +) } }
    public var correct: Int { (0..<classCount).reduce(0) { $0 + counts[$1][$1] } }
    /// Samples whose true class is `c`.
    public func support(_ c: Int) -> Int { counts[c].reduce(0, +) }
    /// Samples predicted as `c`.
    public func predicted(_ c: Int) -> Int { counts.reduce(0) { $0 + $1[c] } }
}

/// Per-class precision, recall, F1 and support with macro and weighted
/// averages and accuracy — the figures of scikit-learn's
/// `classification_report`, computed the same way:
/// - precision = TP / (TP + FP), recall = TP / (TP + FN), F1 = 2·P·R / (P + R),
///   each 0 when its denominator is 0 (scikit-learn's `zero_division` default);
/// - the macro average is the unweighted mean of the per-class figures, the
///   weighted average weights them by support;
/// - classes are those occurring among the labels or the predictions.
public struct ClassificationReport: Sendable {
    public struct Row: Sendable, Equatable {
        public let name: String
        public let precision: Double
        public let recall: Double
        public let f1: Double
        public let support: Int
    }

    /// One row per class present in the labels or predictions, in class order.
    public let classes: [Row]
    public let macroAverage: Row
    public let weightedAverage: Row
    public let accuracy: Double
    /// Number of samples.
    public let support: Int

    public init(_ matrix: ConfusionMatrix, classNames: [String]) {
        precondition(classNames.count == matrix.classCount, "one name per class")
        var rows: [Row] = []
        for c in 0..<matrix.classCount {
            let tp = matrix.counts[c][c], support = matrix.support(c), predicted = matrix.predicted(c)
            guard support > 0 || predicted > 0 else { continue }
            let precision = predicted == 0 ? 0 : Double(tp) / Double(predicted)
            let recall = support == 0 ? 0 : Double(tp) / Double(support)
            let f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall)
            rows.append(Row(name: classNames[c], precision: precision, recall: recall, f1: f1, support: support))
        }
        classes = rows
        let total = matrix.total
        support = total
        accuracy = total == 0 ? 0 : Double(matrix.correct) / Double(total)
        let n = Double(max(1, rows.count))
        macroAverage = Row(name: "macro avg", precision: rows.reduce(0) { $0 + $1.precision } / n,
                           recall: rows.reduce(0) { $0 + $1.recall } / n, f1: rows.reduce(0) { $0 + $1.f1 } / n, support: total)
        let w = Double(max(1, total))
        weightedAverage = Row(name: "weighted avg",
                              precision: rows.reduce(0) { $0 + $1.precision * Double($1.support) } / w,
                              recall: rows.reduce(0) { $0 + $1.recall * Double($1.support) } / w,
                              f1: rows.reduce(0) { $0 + $1.f1 * Double($1.support) } / w, support: total)
    }

    /// scikit-learn's `classification_report(..., output_dict=True)` layout:
    /// `{"<class>": {"precision", "recall", "f1-score", "support"}, …, "accuracy",
    /// "macro avg": {…}, "weighted avg": {…}}`.
    public var dictionary: [String: Any] {
        func entry(_ r: Row) -> [String: Any] {
            ["precision": r.precision, "recall": r.recall, "f1-score": r.f1, "support": r.support]
        }
        var out: [String: Any] = ["accuracy": accuracy, "macro avg": entry(macroAverage), "weighted avg": entry(weightedAverage)]
        for r in classes { out[r.name] = entry(r) }
        return out
    }

    /// The report as scikit-learn prints it, with `digits` decimals.
    public func text(digits: Int = 4) -> String {
        let width = max(12, (classes.map(\.name.count).max() ?? 0))
        let f = { (x: Double) in String(format: "%.\(digits)f", x) }
        let col = max(9, digits + 3)
        func pad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        func line(_ name: String, _ cells: [String]) -> String { pad(name, width) + cells.map { " " + pad($0, col) }.joined() }
        var lines = [line("", ["precision", "recall", "f1-score", "support"]), ""]
        for r in classes { lines.append(line(r.name, [f(r.precision), f(r.recall), f(r.f1), String(r.support)])) }
        lines.append("")
        lines.append(line("accuracy", ["", "", f(accuracy), String(support)]))
        for r in [macroAverage, weightedAverage] { lines.append(line(r.name, [f(r.precision), f(r.recall), f(r.f1), String(r.support)])) }
        return lines.joined(separator: "\n")
    }
}
