import ModelPortFiles
import ModelPortHDF5
import ModelPortRuntime

/// Inputs and the outputs a reference framework (Keras) produced for them.
///
/// On disk (see README, "Reference files"): an HDF5 file with datasets
/// `inputs` (float32, N x input shape), `outputs` (float32, N x output shape)
/// and optionally `labels` (integers, N).
public struct ReferenceData: Sendable {
    public let path: String
    public let inputs: Tensor
    public let outputs: Tensor
    public let labels: [Int]?
    /// Per-layer outputs for the first samples (`layers/<layer name>`,
    /// each M x layer output shape, M <= N), for per-layer comparison.
    public let layerOutputs: [String: Tensor]

    public init(path: String, inputs: Tensor, outputs: Tensor, labels: [Int]?, layerOutputs: [String: Tensor] = [:]) {
        self.path = path
        self.inputs = inputs
        self.outputs = outputs
        self.labels = labels
        self.layerOutputs = layerOutputs
    }

    /// Reads a reference file.
    /// - Throws: `HDF5Error` for unreadable files, `ReferenceError` for
    ///   missing datasets or inconsistent sample counts.
    public static func read(_ path: String) throws -> ReferenceData {
        let file = try HDF5File(openingAt: path)
        let root = file.root
        for name in ["inputs", "outputs"] where !root.isDataset(name) {
            throw ReferenceError("\(path): reference file has no '\(name)' dataset (expected datasets: inputs, outputs, optional labels)")
        }
        let inputs = try readTensor(root.dataset("inputs"))
        let outputs = try readTensor(root.dataset("outputs"))
        guard inputs.rank >= 1, outputs.rank >= 1, inputs.batchCount == outputs.batchCount else {
            throw ReferenceError("\(path): 'inputs' \(inputs.shape) and 'outputs' \(outputs.shape) do not have the same number of samples")
        }
        // A comparison of nothing would "pass".
        guard inputs.batchCount > 0 else {
            throw ReferenceError("\(path): the reference file holds 0 samples; there is nothing to compare against")
        }
        var labels: [Int]? = nil
        if root.isDataset("labels") {
            let ds = try root.dataset("labels")
            let values = try ds.read(as: Int64.self).map { Int($0) }
            guard values.count == inputs.batchCount else {
                throw ReferenceError("\(path): 'labels' has \(values.count) entries for \(inputs.batchCount) samples")
            }
            labels = values
        }
        var layers: [String: Tensor] = [:]
        // A layer name with '/' (tf-keras DenseNet's "conv1/conv") is a nested
        // group in HDF5: `layers/conv1/conv`. Groups deeper than 8 are not
        // searched, and at most 100,000 entries (hard links can make cycles).
        var visited = 0
        func collect(_ group: HDF5Group, prefix: String, depth: Int) throws {
            for child in try group.childNames() {
                visited += 1
                guard visited <= 100_000 else {
                    throw ReferenceError("\(path): 'layers' holds more than 100,000 entries (a link cycle?)")
                }
                let name = prefix.isEmpty ? child : prefix + "/" + child
                if group.isDataset(child) {
                    let t = try readTensor(group.dataset(child))
                    guard t.rank >= 1, t.batchCount <= inputs.batchCount else {
                        throw ReferenceError("\(path): 'layers/\(name)' has \(t.batchCount) samples, more than the \(inputs.batchCount) inputs")
                    }
                    layers[name] = t
                } else if group.isGroup(child), depth < 8 {
                    try collect(try group.group(child), prefix: name, depth: depth + 1)
                }
            }
        }
        if root.isGroup("layers") { try collect(try root.group("layers"), prefix: "", depth: 0) }
        return ReferenceData(path: path, inputs: inputs, outputs: outputs, labels: labels, layerOutputs: layers)
    }

    /// Throws unless the model takes this file's inputs and produces outputs
    /// of this file's shape, naming both files (before anything is run).
    /// - Parameter outputShape: the model's output shape per sample.
    public func checkShapes(modelInput: [Int], modelOutput: [Int], modelPath: String) throws {
        guard inputs.sampleShape == modelInput else {
            throw ReferenceError("\(path): the reference inputs have shape \(inputs.sampleShape) per sample, but \(modelPath) takes inputs of shape \(modelInput)")
        }
        guard outputs.sampleShape == modelOutput else {
            throw ReferenceError("\(path): the reference outputs have shape \(outputs.sampleShape) per sample, but \(modelPath) produces outputs of shape \(modelOutput)")
        }
    }

    /// Writes a reference file (to a temporary name, then renamed into place).
    public func write(to path: String) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File(creatingAt: temporary)
            _ = try file.root.createDataset("inputs", shape: inputs.shape, values: inputs.scalars, gzipLevel: 6)
            _ = try file.root.createDataset("outputs", shape: outputs.shape, values: outputs.scalars, gzipLevel: 6)
            if let labels {
                _ = try file.root.createDataset("labels", shape: [labels.count], values: labels.map { Int64($0) })
            }
            for (name, t) in layerOutputs {
                _ = try file.root.createDataset("layers/\(name)", shape: t.shape, values: t.scalars, gzipLevel: 6)
            }
            try file.flush()
        }
    }

    static func readTensor(_ dataset: HDF5Dataset) throws -> Tensor {
        let shape = try dataset.shape()
        return Tensor(shape: shape, scalars: try dataset.read(as: Float.self))
    }
}

/// A problem with reference data or a comparison request.
public struct ReferenceError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
