import Foundation
import ModelPortFiles
import ModelPortHDF5
import ModelPortRuntime

/// `predict --dump LAYER`: one layer's activations for every sample, written
/// as an HDF5 dataset `layers/<layer name>` (N x the layer's output shape) —
/// the same layout reference files use for per-layer outputs.
enum LayerDump {
    /// Samples run per pass, so a big input never holds every layer's output at once.
    static let chunk = 256

    /// - Parameter inputs: one tensor per model input, the same samples in each.
    static func write(model: any Model, inputs: [Tensor], layer: String, to path: String) throws {
        let names = model.layers.map(\.name)
        guard names.contains(layer) else {
            throw CLIError("the model has no layer '\(layer)' (layers: \(names.joined(separator: ", ")))")
        }
        var scalars: [Float] = []
        var sampleShape: [Int] = []
        var start = 0
        let n = inputs.first?.batchCount ?? 0
        while start < n {
            let end = min(n, start + chunk)
            let outputs = model.layerOutputs(inputs: inputs.map { $0.batch(start..<end) })
            guard let output = outputs.first(where: { $0.layer == layer })?.output else {
                throw CLIError("layer '\(layer)' produced no output")
            }
            sampleShape = output.sampleShape
            scalars += output.scalars
            start = end
        }
        // Written beside the destination and renamed: a failed dump leaves nothing half-written.
        try AtomicFile.write(to: path) { temporary in
            let file = try HDF5File(creatingAt: temporary)
            _ = try file.root.createDataset("layers/\(layer)", shape: [n] + sampleShape,
                                            values: scalars, gzipLevel: 4)
            try file.root.writeAttribute("layer", string: layer)
            try file.flush()
        }
    }
}
