import ArgumentParser
import ModelPortReports

extension PredictedClasses {
    /// Exits with status 1 (after the output is printed) when any sample's
    /// output held NaN, naming the model and the samples.
    /// - Parameter samples: how to name each sample (its image file, or its index).
    func failIfNaN(model: String, samples: [String]) throws {
        let bad = unpredicted
        guard !bad.isEmpty else { return }
        let named = bad.prefix(5).map { samples[$0] }.joined(separator: ", ") + (bad.count > 5 ? ", …" : "")
        printError("error: \(model) produced NaN outputs for \(bad.count) of \(values.count) samples (\(named)): no class predicted for them")
        throw ExitCode(1)
    }
}
