import Foundation
import ModelPortRuntime

/// The predicted class of each sample, or none where the model's output holds
/// NaN: argmax over NaN would silently answer class 0. With the top classes
/// and the CSV `modelport predict` shows.
public struct PredictedClasses: Sendable {
    /// Per sample: the most probable class, nil when its output has a NaN.
    public let values: [Int?]
    /// The model outputs, `[n, classes]`.
    public let outputs: Tensor

    /// What a table shows instead of the top classes of a NaN sample.
    public static let noPrediction = "no prediction: the model produced NaN"

    /// - Parameter outputs: `[n, classes]` model outputs.
    public init(_ outputs: Tensor) {
        self.outputs = outputs
        let per = outputs.sampleCount
        values = (0..<outputs.batchCount).map { s in
            let row = outputs.scalars[(s * per)..<((s + 1) * per)]
            guard per > 0, !row.contains(where: \.isNaN) else { return nil }
            var best = row.startIndex
            for i in row.indices where row[i] > row[best] { best = i }
            return best - row.startIndex
        }
    }

    public var count: Int { values.count }
    public subscript(sample: Int) -> Int? { values[sample] }

    /// The class as text, `NaN` when there is none.
    public func text(_ sample: Int) -> String { values[sample].map(String.init) ?? "NaN" }
    /// One line per sample, for `--output`.
    public var texts: [String] { values.indices.map(text) }
    /// The class for JSON: a number, or null.
    public func json(_ sample: Int) -> Any { values[sample] ?? NSNull() }

    /// A value for JSON, which has no NaN or infinity: those become null.
    public static func json(_ value: Float) -> Any { value.isFinite ? Double(value) : NSNull() }

    /// Samples whose output held NaN.
    public var unpredicted: [Int] { values.indices.filter { values[$0] == nil } }

    /// Per sample, the `top` most probable classes with their probabilities,
    /// most probable first.
    public func ranked(top: Int) -> [[(class: Int, probability: Float)]] {
        (0..<outputs.batchCount).map { s in
            Array(outputs.sample(s)).enumerated().sorted { $0.element > $1.element }
                .prefix(min(top, outputs.sampleCount)).map { (class: $0.offset, probability: $0.element) }
        }
    }

    /// `file,predicted,confidence,p0,p1,...`, one row per sample named by
    /// `names` (quoted when they hold a comma, quote or newline); a NaN
    /// sample's class is `NaN` and its confidence `nan`.
    public func csv(names: [String]) -> String {
        func quoted(_ s: String) -> String {
            s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
        }
        var lines = [(["file", "predicted", "confidence"] + (0..<outputs.sampleCount).map { "p\($0)" }).joined(separator: ",")]
        for i in names.indices {
            let p = outputs.sample(i)
            let confidence = values[i].map { String(format: "%.6f", Double(p[p.startIndex + $0])) } ?? "nan"
            lines.append(([quoted(names[i]), text(i), confidence]
                          + p.map { String(format: "%.6f", Double($0)) }).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
