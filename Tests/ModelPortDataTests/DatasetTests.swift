import Foundation
import ModelPortData
import ModelPortRuntime
import Testing
import TestSupport

/// Labels, normalisation, seeded shuffles and splits.
struct DatasetTests {
    /// A small dataset whose image i is filled with the value i, so every
    /// sample can be traced through shuffles and splits.
    func traced(_ n: Int) -> LabeledDataset {
        LabeledDataset(images: Tensor(shape: [n, 2, 2, 1], scalars: (0..<n).flatMap { Array(repeating: Float($0), count: 4) }),
                       labels: (0..<n).map { $0 % 10 }, classNames: (0...9).map(String.init), source: "traced")
    }

    func ids(_ set: LabeledDataset) -> [Int] { (0..<set.count).map { Int(set.images.sample($0).first!) } }

    @Test func oneHotAndSparseLabels() {
        let labels = [3, 0, 9, 3]
        let oneHot = Labels.oneHot(labels, classes: 10)
        #expect(oneHot.shape == [4, 10])
        for (i, label) in labels.enumerated() {
            for c in 0..<10 { #expect(oneHot.scalars[i * 10 + c] == (c == label ? 1 : 0)) }
        }
        #expect(Labels.fromOneHot(oneHot) == labels)
        #expect(Labels.sparse(labels).scalars == [3, 0, 9, 3])
    }

    @Test func normalisationToTheUnitInterval() {
        #expect(Normalization.unitInterval([0, 51, 255]) == [0, Float(51) / 255, 1])
        #expect(Normalization.standardized([1, 3], mean: 2, std: 2) == [-0.5, 0.5])
    }

    @Test func shuffleIsAPermutationFixedByTheSeed() {
        let set = traced(100)
        let a = set.shuffled(seed: 7), b = set.shuffled(seed: 7), c = set.shuffled(seed: 8)
        #expect(ids(a) == ids(b))
        #expect(ids(a) != ids(c))
        #expect(ids(a).sorted() == Array(0..<100))
        #expect(ids(a) != Array(0..<100))
        // Labels travel with their images.
        for i in 0..<a.count { #expect(a.labels[i] == ids(a)[i] % 10) }
    }

    @Test func splitPartitionsEverySampleOnce() throws {
        let split = try traced(1000).split(validationFraction: 0.1, testFraction: 0.2, seed: 42)
        #expect(split.train.count == 700 && split.validation.count == 100 && split.test.count == 200)
        let all = ids(split.train) + ids(split.validation) + ids(split.test)
        #expect(all.sorted() == Array(0..<1000))
        let again = try traced(1000).split(validationFraction: 0.1, testFraction: 0.2, seed: 42)
        #expect(ids(again.validation) == ids(split.validation))
        #expect(throws: DataError.self) { try traced(10).split(validationFraction: 0.6, testFraction: 0.4, seed: 1) }
        #expect(throws: DataError.self) { try traced(10).split(validationFraction: -0.1, seed: 1) }
    }

    /// Keras's validation_split takes the last samples, unshuffled.
    @Test func kerasStyleValidationSplit() throws {
        let (train, validation) = try traced(10).splitLast(validationFraction: 0.2)
        #expect(ids(train) == Array(0..<8))
        #expect(ids(validation) == [8, 9])
    }

    @Test func reshapedSamplesChecksTheCount() throws {
        let set = traced(3)
        #expect(try set.reshapedSamples([4]).images.shape == [3, 4])
        #expect(throws: DataError.self) { try set.reshapedSamples([5]) }
    }

    /// The real test set through the descriptor: 10,000 images in [0, 1] with
    /// the labels the IDX file holds.
    @Test func loadsTheMNISTTestSet() throws {
        let set = try DatasetDescriptor.mnist.load(.test, from: TestPaths.mnistDirectory.path)
        #expect(set.images.shape == [10_000, 28, 28, 1])
        let labels = try MNIST.labels(IDXFile(contentsOf: TestPaths.mnistDirectory.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path))
        #expect(set.labels == labels)
        #expect(set.classNames == (0...9).map(String.init))
    }

    /// Fashion-MNIST as Debian's dataset-fashion-mnist installs it.
    @Test func loadsFashionMNISTFromTheDebianPackage() throws {
        let locator = DatasetLocator(environment: [:], searchRoots: [], cacheDirectory: TestPaths.temporaryDirectory("cache"), allowDownload: false)
        let location = try locator.locate(.fashionMNIST)
        #expect(location.directory == "/usr/share/datasets/fashion-mnist")
        let set = try DatasetDescriptor.fashionMNIST.load(.test, from: location.directory, limit: 500)
        #expect(set.count == 500 && set.classNames.count == 10)
        #expect(Set(set.labels) == Set(0...9))
    }
}

/// The order of dataset sources.
struct DatasetLocatorTests {
    let shared = TestPaths.mnistDirectory.path

    func offline(_ environment: [String: String] = [:], roots: [String] = [], explicit: String? = nil) -> DatasetLocator {
        DatasetLocator(explicitDirectory: explicit, environment: environment, searchRoots: roots,
                       cacheDirectory: TestPaths.temporaryDirectory("cache"), allowDownload: false)
    }

    @Test func explicitDirectoryComesFirst() throws {
        let location = try offline(["MNIST_DIR": "/nonexistent"], explicit: shared).locate(.mnist)
        #expect(location.directory == shared && location.origin == "--data")
    }

    @Test func environmentVariableComesNext() throws {
        let location = try offline(["MNIST_DIR": shared], roots: ["/nonexistent"]).locate(.mnist)
        #expect(location.origin == "$MNIST_DIR")
    }

    /// The environment variable wins over `../shared/data` when both hold the dataset.
    @Test func environmentVariableComesBeforeSharedData() throws {
        let dir = TestPaths.temporaryDirectory("env-first")
        for file in DatasetDescriptor.mnist.files {
            try FileManager.default.createSymbolicLink(atPath: dir.path + "/" + file.name + ".gz", withDestinationPath: shared + "/" + file.name + ".gz")
        }
        let location = try offline(["MNIST_DIR": dir.path], roots: [TestPaths.repoRoot.path]).locate(.mnist)
        #expect(location.origin == "$MNIST_DIR" && location.directory == dir.path)
        #expect(try offline(roots: [TestPaths.repoRoot.path]).locate(.mnist).origin == "shared data")
    }

    /// Training needs only the training part: a directory without the test
    /// files is found for `[.train]` and refused for the whole dataset.
    @Test func aTrainingOnlyDirectoryServesTraining() throws {
        let dir = TestPaths.temporaryDirectory("train-only")
        for file in DatasetDescriptor.mnist.files(of: [.train]) {
            try FileManager.default.createSymbolicLink(atPath: dir.path + "/" + file.name + ".gz", withDestinationPath: shared + "/" + file.name + ".gz")
        }
        for locator in [offline(explicit: dir.path), offline(["MNIST_DIR": dir.path])] {
            #expect(try locator.locate(.mnist, parts: [.train]).directory == dir.path)
            #expect(throws: DataError.self) { try locator.locate(.mnist) }
        }
        #expect(DatasetDescriptor.mnist.has(.train, in: dir.path) && !DatasetDescriptor.mnist.has(.test, in: dir.path))
        #expect(DatasetDescriptor.mnist.files(of: [.train, .test]) == DatasetDescriptor.mnist.files)
    }

    /// Targets for training: one-hot rows or sparse class indices.
    @Test func trainingTargets() throws {
        let set = try DatasetDescriptor.mnist.load(.test, from: shared, limit: 20)
        #expect(set.targets(classes: set.classCount, sparse: false) == set.oneHotLabels)
        #expect(set.targets(classes: set.classCount, sparse: true) == set.sparseLabels)
        // A model with fewer outputs than classes: labels beyond them are all-zero rows.
        let narrow = set.targets(classes: 2, sparse: false)
        for (i, label) in set.labels.enumerated() {
            #expect(Array(narrow.sample(i)) == (0..<2).map { $0 == label ? 1 : 0 })
        }
    }

    /// `../shared/data/mnist` relative to a search root (the checkout).
    @Test func sharedDataBesideTheCheckout() throws {
        let location = try offline(roots: [TestPaths.repoRoot.path]).locate(.mnist)
        #expect(location.origin == "shared data")
        #expect(URL(fileURLWithPath: location.directory).standardized.path == URL(fileURLWithPath: shared).standardized.path)
    }

    /// A named directory lacking a file is an error naming it and the file, not a fallback.
    @Test func incompleteExplicitDirectoryIsAnError() throws {
        let dir = TestPaths.temporaryDirectory("partial")
        try FileManager.default.copyItem(atPath: shared + "/t10k-labels-idx1-ubyte.gz", toPath: dir.path + "/t10k-labels-idx1-ubyte.gz")
        #expect { try offline(explicit: dir.path).locate(.mnist) } throws: { error in
            "\(error)".contains(dir.path) && "\(error)".contains("train-images-idx3-ubyte")
        }
        #expect { try offline(["MNIST_DIR": dir.path]).locate(.mnist) } throws: { error in
            "\(error)".contains("$MNIST_DIR") && "\(error)".contains(dir.path)
        }
    }

    @Test func uncompressedFilesAreFoundToo() throws {
        let dir = TestPaths.temporaryDirectory("raw")
        for file in DatasetDescriptor.mnist.files {
            let target = file.name.hasPrefix("t10k") ? dir.path + "/" + file.name : dir.path + "/" + file.name + ".gz"
            if file.name.hasPrefix("t10k") {
                _ = try run("/bin/sh", ["-c", "zcat '\(shared)/\(file.name).gz' > '\(target)'"])
            } else {
                try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: shared + "/" + file.name + ".gz")
            }
        }
        let set = try DatasetDescriptor.mnist.load(.test, from: try offline(explicit: dir.path).locate(.mnist).directory, limit: 50)
        let reference = try DatasetDescriptor.mnist.load(.test, from: shared, limit: 50)
        #expect(set.labels == reference.labels && set.images == reference.images)
    }

    @Test func namesAreCaseAndUnderscoreInsensitive() {
        #expect(DatasetDescriptor.named("Fashion_MNIST")?.name == "fashion-mnist")
        #expect(DatasetDescriptor.named("cifar") == nil)
    }
}
