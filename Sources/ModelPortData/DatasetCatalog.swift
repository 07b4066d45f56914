/// One file of a standard dataset, with the SHA-256 of its decompressed bytes.
public struct DatasetFile: Sendable, Equatable {
    /// The name without `.gz` (`train-images-idx3-ubyte`).
    public let name: String
    /// SHA-256 of the decompressed IDX bytes (so a mirror that recompresses still verifies).
    public let sha256: String
    /// Size of the decompressed file in bytes.
    public let size: Int
}

/// A dataset in MNIST's IDX format: its files, where copies are usually found,
/// and the canonical mirrors to download it from.
public struct DatasetDescriptor: Sendable {
    /// The name used on the command line (`mnist`, `fashion-mnist`).
    public let name: String
    public let trainImages: DatasetFile
    public let trainLabels: DatasetFile
    public let testImages: DatasetFile
    public let testLabels: DatasetFile
    public let classNames: [String]
    /// Environment variable naming a directory that holds the files.
    public let environmentVariable: String
    /// Folder names looked for under `../shared/data/` beside a checkout.
    public let sharedFolder: String
    /// System-wide copies (Debian's dataset packages).
    public let systemDirectories: [String]
    /// Base URLs tried in order; a file's URL is the base plus `name.gz`.
    public let mirrors: [String]

    public var files: [DatasetFile] { [trainImages, trainLabels, testImages, testLabels] }

    /// The handwritten digits. Hashes are of the original distribution's files.
    public static let mnist = DatasetDescriptor(
        name: "mnist",
        trainImages: DatasetFile(name: "train-images-idx3-ubyte", sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", size: 47_040_016),
        trainLabels: DatasetFile(name: "train-labels-idx1-ubyte", sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", size: 60_008),
        testImages: DatasetFile(name: "t10k-images-idx3-ubyte", sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", size: 7_840_016),
        testLabels: DatasetFile(name: "t10k-labels-idx1-ubyte", sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", size: 10_008),
        classNames: (0...9).map(String.init),
        environmentVariable: "MNIST_DIR",
        sharedFolder: "mnist",
        systemDirectories: ["/usr/share/datasets/mnist"],
        mirrors: [
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ])

    /// Zalando's Fashion-MNIST: the same format, ten kinds of clothing.
    public static let fashionMNIST = DatasetDescriptor(
        name: "fashion-mnist",
        trainImages: DatasetFile(name: "train-images-idx3-ubyte", sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888", size: 47_040_016),
        trainLabels: DatasetFile(name: "train-labels-idx1-ubyte", sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9", size: 60_008),
        testImages: DatasetFile(name: "t10k-images-idx3-ubyte", sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b", size: 7_840_016),
        testLabels: DatasetFile(name: "t10k-labels-idx1-ubyte", sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34", size: 10_008),
        classNames: ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
        environmentVariable: "FASHION_MNIST_DIR",
        sharedFolder: "fashion-mnist",
        systemDirectories: ["/usr/share/datasets/fashion-mnist"],
        mirrors: [
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
        ])

    /// Every dataset `--dataset` accepts.
    public static let known: [DatasetDescriptor] = [.mnist, .fashionMNIST]

    /// The dataset called `name` (case-insensitive; `fashion_mnist` also works).
    public static func named(_ name: String) -> DatasetDescriptor? {
        let key = name.lowercased().replacingOccurrences(of: "_", with: "-")
        return known.first { $0.name == key }
    }
}
