import ArgumentParser
import Foundation
import ModelPortData
import ModelPortImage

/// Which standard IDX dataset and where it is: the options of every command
/// that reads one (`train`, `evaluate`). `DatasetLocator` does the search.
struct DatasetLocationOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The standard dataset: \(DatasetDescriptor.known.map(\.name).joined(separator: " or ")).", valueName: "name"))
    var dataset: String = "mnist"

    @Option(help: ArgumentHelp("A directory holding the dataset's IDX files (.gz or not). Default, in this order: $MNIST_DIR (or $FASHION_MNIST_DIR), ../shared/data/<name>, /usr/share/datasets/<name>, then the download cache.", valueName: "dir"))
    var data: String?

    @Flag(help: "Never download: fail if the dataset is not found locally.")
    var noDownload = false

    func validate() throws {
        guard DatasetDescriptor.named(dataset) != nil else {
            throw ValidationError("unknown dataset '\(dataset)'; known: \(DatasetDescriptor.known.map(\.name).joined(separator: ", "))")
        }
    }

    /// The dataset `--dataset` names (`validate` checked it).
    var descriptor: DatasetDescriptor { DatasetDescriptor.named(dataset) ?? .mnist }

    /// Finds the directory holding `parts` of the dataset (downloading it
    /// into the cache unless `--no-download`).
    /// - Throws: `DataError` naming what is missing where.
    func locate(parts: Set<DatasetPart> = [.train, .test]) throws -> DatasetLocator.Location {
        let locator = DatasetLocator(explicitDirectory: data, searchRoots: Self.searchRoots,
                                     allowDownload: !noDownload, progress: TerminalProgressBar())
        return try locator.locate(descriptor, parts: parts)
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

/// Where a labelled dataset comes from: a standard IDX dataset found (or
/// downloaded) by name, or a folder of images with one sub-folder per class.
struct DatasetOptions: ParsableArguments {
    @OptionGroup var location: DatasetLocationOptions

    @Option(help: ArgumentHelp("Use a folder of images instead, one sub-folder per class (digits/0/*.png, digits/1/*.jpg, …); each image is preprocessed like 'predict' does.", valueName: "dir"))
    var images: String?

    @Option(help: ArgumentHelp("Which part of a standard dataset: test or train.", valueName: "part"))
    var part: String = "test"

    @Option(help: "Use only the first N samples.")
    var limit: Int?

    func validate() throws {
        guard DatasetPart(rawValue: part) != nil else { throw ValidationError("--part must be test or train") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if images != nil && location.data != nil { throw ValidationError("give --data or --images, not both") }
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
        let descriptor = location.descriptor
        let found = try location.locate()
        var set = try descriptor.load(DatasetPart(rawValue: part)!, from: found.directory, limit: limit)
        set.source = "\(descriptor.name) \(part) set in \(found.directory) (\(found.origin))"
        return set
    }
}
