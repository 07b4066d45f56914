import ArgumentParser
import Foundation
import ModelPortRuntime

/// The predicted class of each sample, or none where the model's output holds
/// NaN: argmax over NaN would silently answer class 0.
struct PredictedClasses {
    /// Per sample: the most probable class, nil when its output has a NaN.
    let values: [Int?]

    /// What the table shows instead of the top classes of a NaN sample.
    static let noPrediction = "no prediction: the model produced NaN"

    /// - Parameter outputs: `[n, classes]` model outputs.
    init(_ outputs: Tensor) {
        let per = outputs.sampleCount
        values = (0..<outputs.batchCount).map { s in
            let row = outputs.scalars[(s * per)..<((s + 1) * per)]
            guard per > 0, !row.contains(where: \.isNaN) else { return nil }
            var best = row.startIndex
            for i in row.indices where row[i] > row[best] { best = i }
            return best - row.startIndex
        }
    }

    var count: Int { values.count }
    subscript(sample: Int) -> Int? { values[sample] }

    /// The class as text, `NaN` when there is none.
    func text(_ sample: Int) -> String { values[sample].map(String.init) ?? "NaN" }
    /// One line per sample, for `--output`.
    var texts: [String] { values.indices.map(text) }
    /// The class for JSON: a number, or null.
    func json(_ sample: Int) -> Any { values[sample] ?? NSNull() }

    /// A value for JSON, which has no NaN or infinity: those become null.
    static func json(_ value: Float) -> Any { value.isFinite ? Double(value) : NSNull() }

    /// Exits with status 1 (after the output is printed) when any sample's
    /// output held NaN, naming the model and the samples.
    /// - Parameter samples: how to name each sample (its image file, or its index).
    func failIfNaN(model: String, samples: [String]) throws {
        let bad = values.indices.filter { values[$0] == nil }
        guard !bad.isEmpty else { return }
        let named = bad.prefix(5).map { samples[$0] }.joined(separator: ", ") + (bad.count > 5 ? ", …" : "")
        printError("error: \(model) produced NaN outputs for \(bad.count) of \(values.count) samples (\(named)): no class predicted for them")
        throw ExitCode(1)
    }
}
