import ModelPortFiles
import ModelPortHDF5
import ModelPortRuntime

/// Inputs and the outputs a reference framework (Keras) produced for them.
///
/// On disk (see README, "Reference files"): an HDF5 file with datasets
/// `inputs` (float32, N x input shape), `outputs` (float32, N x output shape)
/// and optionally `labels` (integers, N). A model with several inputs or
/// outputs has a group instead: `inputs/<input name>`, `outputs/<output
/// name>` (see `ReferenceTensor`); each side may be either form.
public struct ReferenceData: Sendable {
    public let path: String
    /// The `inputs` dataset, or the `inputs/<name>` datasets in the file's
    /// (alphabetical) order; `inputs(for:modelPath:)` puts them in a model's order.
    public let inputTensors: [ReferenceTensor]
    /// The `outputs` dataset, or the `outputs/<name>` datasets.
    public let outputTensors: [ReferenceTensor]
    public let labels: [Int]?
    /// Per-layer outputs for the first samples (`layers/<layer name>`,
    /// each M x layer output shape, M <= N), for per-layer comparison.
    public let layerOutputs: [String: Tensor]

    /// The first input's samples: all of them in a single-input file.
    public var inputs: Tensor { inputTensors[0].values }
    /// The first output's samples: all of them in a single-output file.
    public var outputs: Tensor { outputTensors[0].values }
    /// N, the same for every input and output.
    public var sampleCount: Int { inputs.batchCount }

    /// A single-input, single-output reference (`inputs`, `outputs` datasets).
    public init(path: String, inputs: Tensor, outputs: Tensor, labels: [Int]?, layerOutputs: [String: Tensor] = [:]) {
        self.init(path: path, inputTensors: [ReferenceTensor(name: nil, values: inputs)],
                  outputTensors: [ReferenceTensor(name: nil, values: outputs)], labels: labels, layerOutputs: layerOutputs)
    }

    /// - Precondition: at least one input and one output.
    public init(path: String, inputTensors: [ReferenceTensor], outputTensors: [ReferenceTensor], labels: [Int]?,
                layerOutputs: [String: Tensor] = [:]) {
        precondition(!inputTensors.isEmpty && !outputTensors.isEmpty, "a reference needs an input and an output")
        self.path = path
        self.inputTensors = inputTensors
        self.outputTensors = outputTensors
        self.labels = labels
        self.layerOutputs = layerOutputs
    }

    /// Reads a reference file.
    /// - Throws: `HDF5Error` for unreadable files, `ReferenceError` for
    ///   missing datasets or inconsistent sample counts.
    public static func read(_ path: String) throws -> ReferenceData {
        let file = try HDF5File(openingAt: path)
        let root = file.root
        let inputTensors = try readTensors(root, "inputs", path: path)
        let outputTensors = try readTensors(root, "outputs", path: path)
        let inputs = inputTensors[0].values
        for (group, tensors) in [("inputs", inputTensors), ("outputs", outputTensors)] {
            for t in tensors where t.values.rank < 1 || t.values.batchCount != inputs.batchCount {
                let first = inputTensors[0].datasetPath(in: "inputs")
                throw ReferenceError("\(path): '\(first)' \(inputs.shape) and '\(t.datasetPath(in: group))' \(t.values.shape) do not have the same number of samples")
            }
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
        return ReferenceData(path: path, inputTensors: inputTensors, outputTensors: outputTensors, labels: labels, layerOutputs: layers)
    }

    /// The `inputs` (or `outputs`) dataset, or every dataset of the group of that name.
    private static func readTensors(_ root: HDF5Group, _ name: String, path: String) throws -> [ReferenceTensor] {
        if root.isDataset(name) { return [ReferenceTensor(name: nil, values: try readTensor(root.dataset(name)))] }
        guard root.isGroup(name) else {
            throw ReferenceError("\(path): reference file has no '\(name)' dataset (expected datasets: inputs, outputs, optional labels; "
                                 + "or groups inputs/<input name>, outputs/<output name> for several)")
        }
        let group = try root.group(name)
        var tensors: [ReferenceTensor] = []
        for child in try group.childNames() {
            guard group.isDataset(child) else {
                throw ReferenceError("\(path): '\(name)/\(child)' is not a dataset; the '\(name)' group holds one dataset per model \(name.dropLast())")
            }
            tensors.append(ReferenceTensor(name: child, values: try readTensor(group.dataset(child))))
        }
        guard !tensors.isEmpty else {
            throw ReferenceError("\(path): the '\(name)' group holds no datasets (expected one per model \(name.dropLast()): \(name)/<name>)")
        }
        return tensors
    }

    /// Throws unless the model takes this file's inputs and produces outputs
    /// of this file's shape, naming both files (before anything is run).
    /// For a single-input, single-output reference.
    /// - Parameter outputShape: the model's output shape per sample.
    public func checkShapes(modelInput: [Int], modelOutput: [Int], modelPath: String) throws {
        guard inputs.sampleShape == modelInput else {
            throw ReferenceError("\(path): the reference inputs have shape \(inputs.sampleShape) per sample, but \(modelPath) takes inputs of shape \(modelInput)")
        }
        guard outputs.sampleShape == modelOutput else {
            throw ReferenceError("\(path): the reference outputs have shape \(outputs.sampleShape) per sample, but \(modelPath) produces outputs of shape \(modelOutput)")
        }
    }

    /// Writes a reference file (to a temporary name, then renamed into place):
    /// unnamed tensors as the `inputs`/`outputs` datasets, named ones as
    /// `inputs/<name>`/`outputs/<name>`.
    public func write(to path: String) throws {
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File(creatingAt: temporary)
            for (group, tensors) in [("inputs", inputTensors), ("outputs", outputTensors)] {
                for t in tensors {
                    _ = try file.root.createDataset(t.datasetPath(in: group), shape: t.values.shape, values: t.values.scalars, gzipLevel: 6)
                }
            }
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
