import ArgumentParser
import Foundation
import ModelPortFormats
import ModelPortData
import ModelPortHDF5
import ModelPortImage
import ModelPortRuntime
import ModelPortValidation

/// Samples to predict: from a reference file (`inputs`, or `inputs/<name>`
/// for each input of a model with several; optional `labels`) or from an
/// MNIST IDX image file.
struct InputBatch {
    /// One tensor per model input, in the model's order, the same samples in each.
    var inputs: [Tensor]
    var labels: [Int]?
    var description: String

    /// - Parameters:
    ///   - labelsPath: IDX labels to go with IDX images (found beside them when
    ///     nil and named like MNIST's files).
    ///   - model: the model the samples are for; a reference file's datasets
    ///     are matched to its inputs by name (`ReferenceData.inputs(for:modelPath:)`).
    static func load(_ path: String, labelsPath: String?, model: any Model, modelPath: String, limit: Int?) throws -> InputBatch {
        if HDF5File.isHDF5(path) {
            let reference = try readReference(path)
            var inputs = try reference.inputs(for: model, modelPath: modelPath)
            var labels = reference.labels
            if let limit, limit < reference.sampleCount {
                inputs = inputs.map { $0.batch(0..<limit) }
                labels = labels.map { Array($0.prefix(limit)) }
            }
            return InputBatch(inputs: inputs, labels: labels, description: "reference file \(path)")
        }
        guard model.inputShapes.count == 1 else {
            throw CLIError("\(path): an IDX file holds one input, but \(modelPath) takes \(model.inputShapes.count) (\(model.inputNames.joined(separator: ", "))); "
                           + "give a reference file with a dataset inputs/<name> for each")
        }
        let idx = try IDXFile(contentsOf: path)
        let images = try MNIST.images(idx, sampleShape: model.inputShape, limit: limit)
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
        return InputBatch(inputs: [images], labels: labels, description: "IDX images \(path)")
    }

    /// `t10k-images-idx3-ubyte.gz` -> `t10k-labels-idx1-ubyte.gz`.
    static func guessLabels(for imagesPath: String) -> String? {
        let name = (imagesPath as NSString).lastPathComponent
        guard name.contains("images-idx3") else { return nil }
        let labels = name.replacingOccurrences(of: "images-idx3", with: "labels-idx1")
        return ((imagesPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(labels)
    }
}
