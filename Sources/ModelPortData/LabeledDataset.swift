import ModelPortRuntime

/// Images with their true classes, as a model consumes them.
///
/// Layout: `images` is NHWC float32 (`[N, height, width, channels]`, MNIST:
/// `[N, 28, 28, 1]`), pixel values already normalised (MNIST: [0, 1]);
/// `labels[i]` is the class of sample `i`, an index into `classNames`.
public struct LabeledDataset: Sendable {
    public var images: Tensor
    public var labels: [Int]
    /// One name per class (MNIST: "0"…"9"; Fashion-MNIST: "T-shirt/top"…).
    public var classNames: [String]
    /// Where the samples came from, for messages.
    public var source: String

    /// - Precondition: one label per image, each a valid class index.
    public init(images: Tensor, labels: [Int], classNames: [String], source: String) {
        precondition(images.batchCount == labels.count, "\(images.batchCount) images but \(labels.count) labels")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < classNames.count }, "a label is not a class index")
        self.images = images
        self.labels = labels
        self.classNames = classNames
        self.source = source
    }

    public var count: Int { labels.count }
    public var classCount: Int { classNames.count }

    /// Samples `indices`, in that order.
    public func subset(_ indices: [Int]) -> LabeledDataset {
        let per = images.sampleCount
        var scalars = [Float]()
        scalars.reserveCapacity(indices.count * per)
        for i in indices { scalars.append(contentsOf: images.sample(i)) }
        return LabeledDataset(images: Tensor(shape: [indices.count] + images.sampleShape, scalars: scalars),
                              labels: indices.map { labels[$0] }, classNames: classNames, source: source)
    }

    /// The first `n` samples (all of them when `n` is nil or larger).
    public func prefix(_ n: Int?) -> LabeledDataset {
        guard let n, n < count else { return self }
        return LabeledDataset(images: images.batch(0..<max(0, n)), labels: Array(labels.prefix(max(0, n))),
                              classNames: classNames, source: source)
    }

    /// The same samples in an order fixed by `seed` (Fisher–Yates over
    /// `SeededGenerator`): the same seed gives the same order on every machine.
    public func shuffled(seed: UInt64) -> LabeledDataset {
        var generator = SeededGenerator(seed: seed)
        return subset(Array(0..<count).shuffled(using: &generator))
    }

    /// The same images reshaped per sample (e.g. `[784]` for an MLP, `[28, 28]`).
    /// - Throws: `DataError` when the element counts differ.
    public func reshapedSamples(_ sampleShape: [Int]) throws -> LabeledDataset {
        guard sampleShape.reduce(1, *) == images.sampleCount else {
            throw DataError(source, "samples have shape \(images.sampleShape) (\(images.sampleCount) values); the model expects \(sampleShape)")
        }
        var copy = self
        copy.images = images.reshaped([count] + sampleShape)
        return copy
    }

    /// Labels as one-hot rows, `[N, classCount]` (for categorical cross-entropy).
    public var oneHotLabels: Tensor { Labels.oneHot(labels, classes: classCount) }

    /// Labels as a float vector `[N]` (for sparse categorical cross-entropy).
    public var sparseLabels: Tensor { Labels.sparse(labels) }

    /// Training targets for a model with `classes` outputs: the labels as a
    /// float vector `[N]` (`sparse`, for sparse categorical cross-entropy) or
    /// one-hot rows `[N, classes]`, where a label outside `0..<classes` (a
    /// model with fewer outputs than the dataset has classes) is an all-zero row.
    public func targets(classes: Int, sparse: Bool) -> Tensor {
        if sparse { return sparseLabels }
        var onehot = [Float](repeating: 0, count: count * classes)
        for (i, label) in labels.enumerated() where label < classes { onehot[i * classes + label] = 1 }
        return Tensor(shape: [count, classes], scalars: onehot)
    }
}

/// Label encodings, as Keras's `to_categorical` and sparse targets.
public enum Labels {
    /// `[N, classes]`, 1 at each label's index and 0 elsewhere.
    /// - Precondition: every label is in `0..<classes`.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        var scalars = [Float](repeating: 0, count: labels.count * classes)
        for (i, label) in labels.enumerated() {
            precondition(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
            scalars[i * classes + label] = 1
        }
        return Tensor(shape: [labels.count, classes], scalars: scalars)
    }

    /// `[N]`, the class indices as floats.
    public static func sparse(_ labels: [Int]) -> Tensor {
        Tensor(shape: [labels.count], scalars: labels.map(Float.init))
    }

    /// The class index of each one-hot (or probability) row: its arg-max.
    public static func fromOneHot(_ t: Tensor) -> [Int] {
        (0..<t.batchCount).map { s in
            let row = t.sample(s)
            var best = row.startIndex
            for i in row.indices where row[i] > row[best] { best = i }
            return best - row.startIndex
        }
    }
}

/// Pixel scaling.
public enum Normalization {
    /// uint8 pixels to [0, 1] (x / 255), as every MNIST tutorial does.
    public static func unitInterval(_ bytes: [UInt8]) -> [Float] { bytes.map { Float($0) / 255 } }

    /// Standardises to zero mean and unit variance with the given statistics
    /// (compute them on the training split only).
    public static func standardized(_ values: [Float], mean: Float, std: Float) -> [Float] {
        precondition(std > 0, "standard deviation must be positive")
        return values.map { ($0 - mean) / std }
    }
}
