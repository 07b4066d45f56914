import ArgumentParser
import Foundation
import ModelPortFormats
import ModelPortData
import ModelPortHDF5
import ModelPortImage
import ModelPortRuntime
import ModelPortValidation

/// Samples to predict: from a reference file (`inputs`, optional `labels`)
/// or from an MNIST IDX image file.
struct InputBatch {
    var inputs: Tensor
    var labels: [Int]?
    var description: String

    /// - Parameters:
    ///   - labelsPath: IDX labels to go with IDX images (found beside them when
    ///     nil and named like MNIST's files).
    static func load(_ path: String, labelsPath: String?, sampleShape: [Int], limit: Int?) throws -> InputBatch {
        if HDF5File.isHDF5(path) {
            let reference = try readReference(path)
            var inputs = reference.inputs
            var labels = reference.labels
            if let limit, limit < inputs.batchCount {
                inputs = inputs.batch(0..<limit)
                labels = labels.map { Array($0.prefix(limit)) }
            }
            return InputBatch(inputs: inputs, labels: labels, description: "reference file \(path)")
        }
        let idx = try IDXFile(contentsOf: path)
        let images = try MNIST.images(idx, sampleShape: sampleShape, limit: limit)
        var labels: [Int]? = nil
        let labelFile = labelsPath ?? guessLabels(for: path)
        if let labelFile, FileManager.default.fileExists(atPath: labelFile) {
            labels = try MNIST.labels(IDXFile(contentsOf: labelFile), limit: images.batchCount)
            guard labels!.count == images.batchCount else {
                throw DataError(labelFile, "has \(labels!.count) labels for \(images.batchCount) images")
            }
        } else if let labelsPath {
            throw DataError(labelsPath, "no such file")
        }
        return InputBatch(inputs: images, labels: labels, description: "IDX images \(path)")
    }

    /// `t10k-images-idx3-ubyte.gz` -> `t10k-labels-idx1-ubyte.gz`.
    static func guessLabels(for imagesPath: String) -> String? {
        let name = (imagesPath as NSString).lastPathComponent
        guard name.contains("images-idx3") else { return nil }
        let labels = name.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
        return ((imagesPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(labels)
    }
}

// MARK: - Labelled datasets for `evaluate` (and any command that needs one)


/// Where a labelled dataset comes from: a standard IDX dataset found (or
/// downloaded) by name, or a folder of images with one sub-folder per class.
struct DatasetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The standard dataset: mnist or fashion-mnist.", valueName: "name"))
    var dataset: String = "mnist"

    @Option(help: ArgumentHelp("A directory holding the dataset's four IDX files (.gz or not). Default: $MNIST_DIR (or $FASHION_MNIST_DIR), ../shared/data/<name>, /usr/share/datasets/<name>, then the download cache.", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Use a folder of images instead, one sub-folder per class (digits/0/*.png, digits/1/*.jpg, …); each image is preprocessed like 'predict' does.", valueName: "dir"))
    var images: String?

    @Option(help: ArgumentHelp("Which part of a standard dataset: test or train.", valueName: "part"))
    var part: String = "test"

    @Option(help: "Use only the first N samples.")
    var limit: Int?

    @Flag(help: "Never download: fail if the dataset is not found locally.")
    var noDownload = false

    func validate() throws {
        guard DatasetDescriptor.named(dataset) != nil else {
            throw ValidationError("unknown dataset '\(dataset)'; known: \(DatasetDescriptor.known.map(\.name).joined(separator: ", "))")
        }
        guard DatasetPart(rawValue: part) != nil else { throw ValidationError("--part must be test or train") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if images != nil && data != nil { throw ValidationError("give --data or --images, not both") }
    }

    /// Finds and reads the samples.
    /// - Throws: `DataError`/`ImageError` naming the file or directory.
    func load() throws -> LabeledDataset {
        if let images {
            let folder = try ImageFolder.load(images)
            let set = LabeledDataset(images: folder.images, labels: folder.labels, classNames: folder.classNames,
                                     source: "image folder \(images)")
            return set.prefix(limit)
        }
        let descriptor = DatasetDescriptor.named(dataset)!
        let locator = DatasetLocator(explicitDirectory: data, searchRoots: Self.searchRoots,
                                     allowDownload: !noDownload, progress: TerminalProgressBar())
        let location = try locator.locate(descriptor)
        var set = try descriptor.load(DatasetPart(rawValue: part)!, from: location.directory, limit: limit)
        set.source = "\(descriptor.name) \(part) set in \(location.directory) (\(location.origin))"
        return set
    }

    /// The working directory and the checkout the executable was built in
    /// (whose `../shared/data` holds the shared datasets).
    static var searchRoots: [String] {
        var roots = [FileManager.default.currentDirectoryPath]
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
            for _ in 0..<4 {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path) {
                    roots.append(dir.path)
                    break
                }
                dir.deleteLastPathComponent()
            }
        }
        return roots
    }
}
