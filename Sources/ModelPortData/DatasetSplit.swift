/// Train / validation / test partitions of one labelled dataset.
public struct DatasetSplit: Sendable {
    public var train: LabeledDataset
    public var validation: LabeledDataset
    public var test: LabeledDataset
}

extension LabeledDataset {
    /// Shuffles with `seed`, then cuts off `validationFraction` and
    /// `testFraction` of the samples (rounded down); the rest is training data.
    /// Every sample lands in exactly one part.
    /// - Throws: `DataError` when the fractions are negative or sum to 1 or more.
    public func split(validationFraction: Double, testFraction: Double = 0, seed: UInt64) throws -> DatasetSplit {
        guard validationFraction >= 0, testFraction >= 0, validationFraction + testFraction < 1 else {
            throw DataError(source, "cannot split with validation fraction \(validationFraction) and test fraction \(testFraction): each must be >= 0 and together < 1")
        }
        var generator = SeededGenerator(seed: seed)
        let order = Array(0..<count).shuffled(using: &generator)
        let nValidation = Int(Double(count) * validationFraction)
        let nTest = Int(Double(count) * testFraction)
        let nTrain = count - nValidation - nTest
        return DatasetSplit(train: subset(Array(order[0..<nTrain])),
                            validation: subset(Array(order[nTrain..<(nTrain + nValidation)])),
                            test: subset(Array(order[(nTrain + nValidation)...])))
    }

    /// Keras's `validation_split`: the *last* fraction of the samples, unshuffled.
    public func splitLast(validationFraction: Double) throws -> (train: LabeledDataset, validation: LabeledDataset) {
        guard validationFraction >= 0, validationFraction < 1 else {
            throw DataError(source, "validation fraction \(validationFraction) must be in [0, 1)")
        }
        // Keras: split_at = int(n * (1 - validation_split)).
        let cut = Int(Double(count) * (1 - validationFraction))
        return (subset(Array(0..<cut)), subset(Array(cut..<count)))
    }
}
