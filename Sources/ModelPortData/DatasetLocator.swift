import Foundation

/// Finds a dataset's IDX files, trying in order:
/// 1. an explicit directory (`--data DIR`),
/// 2. the dataset's environment variable (`$MNIST_DIR`, `$FASHION_MNIST_DIR`),
/// 3. `../shared/data/<name>` beside the working directory or a checkout, when it exists,
/// 4. system copies (Debian's `dataset-fashion-mnist` in `/usr/share/datasets`),
/// 5. the cache directory, downloading what is missing from the mirrors
///    (each file verified by SHA-256) when `allowDownload` is set.
///
/// An explicitly named directory that lacks a file is an error, not a reason
/// to look elsewhere: the user asked for that one.
public struct DatasetLocator: Sendable {
    public var explicitDirectory: String?
    public var environment: [String: String]
    /// Directories whose `../shared/data/<name>` is tried (the working directory, the checkout).
    public var searchRoots: [String]
    public var cacheDirectory: URL
    /// Overrides the dataset's mirrors (`$MODELPORT_DATASET_MIRROR` sets one).
    public var mirrors: [URL]?
    public var allowDownload: Bool
    public var progress: DownloadProgress?

    public init(explicitDirectory: String? = nil,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                searchRoots: [String] = [FileManager.default.currentDirectoryPath],
                cacheDirectory: URL? = nil, mirrors: [URL]? = nil,
                allowDownload: Bool = true, progress: DownloadProgress? = nil) {
        self.explicitDirectory = explicitDirectory
        self.environment = environment
        self.searchRoots = searchRoots
        self.cacheDirectory = cacheDirectory ?? DatasetLocator.defaultCache(environment)
        self.mirrors = mirrors ?? environment["MODELPORT_DATASET_MIRROR"].flatMap { $0.isEmpty ? nil : URL(string: $0) }.map { [$0] }
        self.allowDownload = allowDownload
        self.progress = progress
    }

    /// `$MODELPORT_CACHE_DIR`, else `$XDG_CACHE_HOME/modelport`, else `~/.cache/modelport`.
    public static func defaultCache(_ environment: [String: String]) -> URL {
        if let dir = environment["MODELPORT_CACHE_DIR"], !dir.isEmpty { return URL(fileURLWithPath: dir) }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("modelport")
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/modelport")
    }

    /// Where the files were found and how.
    public struct Location: Sendable {
        public let directory: String
        /// "--data", "$MNIST_DIR", "shared data", "system", "cache", "downloaded".
        public let origin: String
    }

    /// - Parameter parts: the parts a directory must hold to be chosen
    ///   (training needs only `.train`: the test part is used when present).
    ///   A download fetches every missing file of the dataset.
    /// - Throws: `DataError` naming the directory and the missing file, or the
    ///   download failure.
    public func locate(_ dataset: DatasetDescriptor, parts: Set<DatasetPart> = [.train, .test]) throws -> Location {
        if let dir = explicitDirectory {
            try requireAll(dataset, parts: parts, in: dir, origin: "--data")
            return Location(directory: dir, origin: "--data")
        }
        if let dir = environment[dataset.environmentVariable], !dir.isEmpty {
            try requireAll(dataset, parts: parts, in: dir, origin: "$\(dataset.environmentVariable)")
            return Location(directory: dir, origin: "$\(dataset.environmentVariable)")
        }
        var candidates: [String] = []
        for root in searchRoots {
            let url = URL(fileURLWithPath: root).appendingPathComponent("../shared/data/\(dataset.sharedFolder)").standardized
            if !candidates.contains(url.path) { candidates.append(url.path) }
        }
        for dir in candidates where Self.hasAll(dataset, parts: parts, in: dir) {
            return Location(directory: dir, origin: "shared data")
        }
        for dir in dataset.systemDirectories where Self.hasAll(dataset, parts: parts, in: dir) {
            return Location(directory: dir, origin: "system")
        }
        let cache = cacheDirectory.appendingPathComponent("datasets/\(dataset.name)")
        if Self.hasAll(dataset, parts: parts, in: cache.path) { return Location(directory: cache.path, origin: "cache") }
        guard allowDownload else {
            throw DataError(cache.path, "\(dataset.name) not found (looked in $\(dataset.environmentVariable), \((candidates + dataset.systemDirectories).joined(separator: ", ")) and this cache) and downloading is turned off; pass --data DIR")
        }
        let downloader = DatasetDownloader(mirrors: mirrors ?? dataset.mirrors.compactMap(URL.init(string:)), progress: progress)
        for file in dataset.files where Self.path(of: file, in: cache.path) == nil {
            try downloader.fetch(file, into: cache)
        }
        return Location(directory: cache.path, origin: "downloaded")
    }

    /// The file as `<name>` or `<name>.gz` in `directory`, if present.
    public static func path(of file: DatasetFile, in directory: String) -> String? {
        for candidate in [file.name + ".gz", file.name] {
            let path = (directory as NSString).appendingPathComponent(candidate)
            if FileManager.default.fileExists(atPath: path) { return path }
        }
        return nil
    }

    static func hasAll(_ dataset: DatasetDescriptor, parts: Set<DatasetPart>, in directory: String) -> Bool {
        dataset.files(of: parts).allSatisfy { path(of: $0, in: directory) != nil }
    }

    func requireAll(_ dataset: DatasetDescriptor, parts: Set<DatasetPart>, in directory: String, origin: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError(directory, "(\(origin)) is not a directory")
        }
        let needed = dataset.files(of: parts)
        if let missing = needed.first(where: { Self.path(of: $0, in: directory) == nil }) {
            throw DataError(directory, "(\(origin)) has no \(missing.name).gz or \(missing.name) (\(dataset.name) needs \(needed.map { $0.name }.joined(separator: ", ")))")
        }
    }
}

/// Which half of a standard dataset.
public enum DatasetPart: String, Sendable, CaseIterable {
    case train, test
}

extension DatasetDescriptor {
    /// The files of `parts`, in `files` order.
    public func files(of parts: Set<DatasetPart>) -> [DatasetFile] {
        (parts.contains(.train) ? [trainImages, trainLabels] : []) + (parts.contains(.test) ? [testImages, testLabels] : [])
    }

    /// Whether `directory` holds both files of `part`.
    public func has(_ part: DatasetPart, in directory: String) -> Bool {
        DatasetLocator.hasAll(self, parts: [part], in: directory)
    }

    /// Reads one part from a directory holding the IDX files, pixels scaled to [0, 1],
    /// images shaped `[N, 28, 28, 1]`.
    /// - Throws: `DataError` for a missing or malformed file, or images and labels that disagree.
    public func load(_ part: DatasetPart, from directory: String, limit: Int? = nil) throws -> LabeledDataset {
        let (imageFile, labelFile) = part == .train ? (trainImages, trainLabels) : (testImages, testLabels)
        guard let imagesPath = DatasetLocator.path(of: imageFile, in: directory) else {
            throw DataError(directory, "has no \(imageFile.name).gz or \(imageFile.name)")
        }
        guard let labelsPath = DatasetLocator.path(of: labelFile, in: directory) else {
            throw DataError(directory, "has no \(labelFile.name).gz or \(labelFile.name)")
        }
        let images = try MNIST.images(IDXFile(contentsOf: imagesPath), limit: limit)
        let labelIDX = try IDXFile(contentsOf: labelsPath)
        let labels = try MNIST.labels(labelIDX, limit: limit)
        guard labels.count == images.batchCount else {
            throw DataError(labelsPath, "has \(labels.count) labels for the \(images.batchCount) images of \(imagesPath)")
        }
        if let bad = labels.first(where: { $0 >= classNames.count }) {
            throw DataError(labelsPath, "holds label \(bad); \(name) has \(classNames.count) classes")
        }
        return LabeledDataset(images: images, labels: labels, classNames: classNames, source: imagesPath)
    }
}
