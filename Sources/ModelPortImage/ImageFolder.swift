import Foundation
import ModelPortRuntime

/// A labelled dataset stored as a folder of images with one sub-folder per
/// class (`digits/0/a.png`, `digits/7/b.jpg`, …), as Keras's
/// `image_dataset_from_directory` reads it. Class names are the sub-folder
/// names in sorted order; class `i` is the `i`-th name.
public struct ImageFolder: Sendable {
    /// `[N, 28, 28, 1]`, one preprocessed sample per file.
    public let images: Tensor
    public let labels: [Int]
    public let classNames: [String]
    /// The image files, in sample order.
    public let files: [String]

    /// Reads and preprocesses every PNG, JPEG and PGM file (other files are ignored).
    /// - Parameter preprocess: turns a decoded image into the model's 28x28
    ///   input (default: `MNISTPreprocessor`).
    /// - Throws: `ImageError` naming the folder when it has no class
    ///   sub-folders or no images, or naming the first image that cannot be used.
    public static func load(_ root: String, preprocess: MNISTPreprocessor = MNISTPreprocessor()) throws -> ImageFolder {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ImageError(root, "is not a directory of class folders")
        }
        let entries = (try? fm.contentsOfDirectory(atPath: root)) ?? []
        let classes = entries.filter { name in
            var dir: ObjCBool = false
            return !name.hasPrefix(".") && fm.fileExists(atPath: (root as NSString).appendingPathComponent(name), isDirectory: &dir) && dir.boolValue
        }.sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        guard !classes.isEmpty else {
            throw ImageError(root, "has no sub-folders; expected one folder per class (e.g. \(root)/0/, \(root)/1/, …) holding images")
        }
        var scalars: [Float] = [], labels: [Int] = [], files: [String] = []
        for (index, name) in classes.enumerated() {
            let folder = (root as NSString).appendingPathComponent(name)
            for file in imageFiles(in: folder) {
                let result = try preprocess(file: file)
                scalars.append(contentsOf: result.image.pixels)
                labels.append(index)
                files.append(file)
            }
        }
        guard !files.isEmpty else { throw ImageError(root, "its class folders hold no PNG, JPEG or PGM images") }
        let side = preprocess.side
        return ImageFolder(images: Tensor(shape: [files.count, side, side, 1], scalars: scalars),
                           labels: labels, classNames: classes, files: files)
    }

    /// The image files directly in `directory`, sorted by name (numbers in natural order).
    public static func imageFiles(in directory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") && ImageFile.extensions.contains(($0 as NSString).pathExtension.lowercased()) }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            .map { (directory as NSString).appendingPathComponent($0) }
    }
}
