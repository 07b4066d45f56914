import Foundation
import ModelPortRuntime

/// Every output of a model with several, per sample, as `modelport predict
/// --input` shows and writes them. An output with more than one element per
/// sample is treated as class scores (its arg-max is its class, none when it
/// holds NaN); a one-element output is a value.
public struct NamedOutputs: Sendable {
    /// `Model.outputNames`, parallel to `outputs`.
    public let names: [String]
    /// Each `[n, output shape]`.
    public let outputs: [Tensor]
    /// Per output, the class of each sample.
    public let classes: [PredictedClasses]

    /// - Precondition: one name per output, the same samples in each.
    public init(names: [String], outputs: [Tensor]) {
        precondition(names.count == outputs.count, "one name per output")
        self.names = names
        self.outputs = outputs
        classes = outputs.map(PredictedClasses.init)
    }

    public var sampleCount: Int { outputs.first?.batchCount ?? 0 }

    /// Whether output `k` is class scores (more than one element per sample).
    public func isClassifier(_ k: Int) -> Bool { outputs[k].sampleCount > 1 }

    /// Output `k` of `sample` in a table or `--output` line: `class (probability)`
    /// for class scores, the value for a one-element output.
    public func text(_ sample: Int, output k: Int) -> String {
        let values = outputs[k].sample(sample)
        guard isClassifier(k) else { return values.first.map { String(format: "%.6g", Double($0)) } ?? "" }
        guard let c = classes[k][sample] else { return "NaN" }
        return "\(c) (\(String(format: "%.4f", Double(values[values.startIndex + c]))))"
    }

    /// `sample`'s `--output` line: per output its class (class scores) or
    /// its value, comma-separated.
    public func line(_ sample: Int) -> String {
        names.indices.map { k in
            isClassifier(k) ? classes[k].text(sample)
                : outputs[k].sample(sample).first.map { String(format: "%.6g", Double($0)) } ?? ""
        }.joined(separator: ",")
    }

    /// Samples any of whose outputs held NaN.
    public var unpredicted: [Int] {
        (0..<sampleCount).filter { s in outputs.contains { $0.sample(s).contains(where: \.isNaN) } }
    }

    /// `sample`'s outputs for JSON: `{name: {"values": [...], "class": k}}`
    /// (`class` only for class scores, null for NaN; non-finite values null).
    public func json(_ sample: Int) -> [String: Any] {
        var object: [String: Any] = [:]
        for k in names.indices {
            var entry: [String: Any] = ["values": outputs[k].sample(sample).map(PredictedClasses.json)]
            if isClassifier(k) { entry["class"] = classes[k].json(sample) }
            object[names[k]] = entry
        }
        return object
    }

    /// `index[,label]` then, per output, `<name>_class` (class scores only)
    /// and `<name>_0`, `<name>_1`... (every element of the flattened output),
    /// one row per sample.
    public func csv(labels: [Int]?) -> String {
        var header = ["index"] + (labels == nil ? [] : ["label"])
        for k in names.indices {
            if isClassifier(k) { header.append("\(names[k])_class") }
            header += (0..<outputs[k].sampleCount).map { "\(names[k])_\($0)" }
        }
        var lines = [header.joined(separator: ",")]
        for s in 0..<sampleCount {
            var row = [String(s)] + (labels.map { [String($0[s])] } ?? [])
            for k in names.indices {
                if isClassifier(k) { row.append(classes[k].text(s)) }
                row += outputs[k].sample(s).map { String(format: "%.6f", Double($0)) }
            }
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
