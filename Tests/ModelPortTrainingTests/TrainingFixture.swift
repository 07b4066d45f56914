import Foundation
import ModelPortHDF5
import ModelPortKeras
import ModelPortRuntime
import TestSupport

/// The TensorFlow-made reference files in fixtures/training/ (written by
/// tools/make_training_fixtures.py), opened for reading.
struct TrainingFixture {
    let path: String
    let file: HDF5File

    init(_ name: String) throws {
        path = TestPaths.fixture("training/" + name)
        file = try HDF5File(openingAt: path)
    }

    /// A float dataset as a tensor of its stored shape.
    func tensor(_ dataset: String) throws -> Tensor {
        let d = try file.root.dataset(dataset)
        return Tensor(shape: try d.shape(), scalars: try d.read(as: Float.self))
    }

    func exists(_ dataset: String) -> Bool { file.root.exists(dataset) }

    func attribute(_ object: String, _ name: String) throws -> String {
        try (object.isEmpty ? file.root : file.root.group(object)).readStringAttribute(name)
    }

    /// The Keras model saved beside the fixture, with its initial weights.
    static func model(_ name: String) throws -> any Model {
        try ModelLoader.load(TestPaths.fixture("training/\(name).h5")).model
    }
}

/// `layer/variable` for every parameter of a model, in layer order; the
/// layers of nested models are named by themselves, as Keras 3's variable
/// paths name them.
func namedParameters(_ model: any Model) -> [(key: String, parameter: Parameter)] {
    model.layers.flatMap { layer -> [(key: String, parameter: Parameter)] in
        if let nested = layer as? ModelLayer { return namedParameters(nested.model) }
        return layer.parameters.map { ("\(layer.name)/\($0.name)", $0) }
    }
}

/// Largest |a - b| relative to the largest |b| (or 1, whichever is larger).
func scaledDifference(_ a: Tensor, _ b: Tensor) -> Float {
    let scale = max(1, b.scalars.map(abs).max() ?? 0)
    return maxAbsDifference(a, b) / scale
}
