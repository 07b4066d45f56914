import ModelPortRuntime

/// A Keras model loaded from a file, with what the file says about itself.
public struct KerasModelFile: Sendable {
    public enum Format: String, Sendable {
        /// Legacy HDF5 written by `model.save("x.h5")`.
        case legacyH5 = "Keras HDF5 (.h5)"
        /// Keras 3 zip archive written by `model.save("x.keras")`.
        case kerasArchive = "Keras 3 archive (.keras)"
        /// A Keras 3 weights store (`model.save_weights("x.weights.h5")`) with a separate config.
        case weightsH5 = "Keras weights (.weights.h5) with a JSON config"
    }

    public let path: String
    public let format: Format
    /// `keras_version` as written ("2.21.0" from tf-keras, "3.15.1" from Keras 3).
    public let kerasVersion: String?
    public let backend: String?
    public let modelConfig: JSONValue
    /// Present for a compiled model: loss, metrics, `optimizer_config`.
    public let trainingConfig: JSONValue?
    public let model: any Model

    /// "Keras 3" / "Keras 2", from `keras_version`.
    public var kerasGeneration: String? {
        guard let v = kerasVersion, let major = v.split(separator: ".").first else { return nil }
        return "Keras \(major)"
    }
}
