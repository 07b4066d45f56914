import ModelPortRuntime

/// Which Keras's file layout to write.
public enum KerasGeneration: Int, Sendable, CaseIterable {
    /// tf-keras 2.x (`tf.keras`): `batch_input_shape`, weights `conv2d/kernel:0`.
    case keras2 = 2
    /// Keras 3: `batch_shape`, DTypePolicy objects, weights `<model>/conv2d/kernel`.
    case keras3 = 3

    /// The Keras release whose layout the writers follow, written as
    /// `keras_version` unless the caller keeps a source file's version.
    public var formatVersion: String { self == .keras3 ? "3.15.1" : "2.21.0" }

    /// The generation that wrote a file, from its `keras_version` ("2.21.0" -> .keras2).
    public init?(kerasVersion: String?) {
        guard let major = kerasVersion?.split(separator: ".").first.flatMap({ Int($0) }) else { return nil }
        self.init(rawValue: major >= 3 ? 3 : 2)
    }
}

/// One optimizer variable, as the target Keras generation stores it.
///
/// Legacy `.h5` files name them: Keras 3 `adam/iteration`,
/// `adam/<model>_<layer>_kernel_momentum`, ...; tf-keras `iteration:0`,
/// `Adam/m/conv2d/kernel:0`, ... (paths under `/optimizer_weights`). A
/// `.keras` archive stores them by position only (`optimizer/vars/0..N`), in
/// the order given. Keras assigns them by position, so the order must be the
/// optimizer's own: iteration, (Keras 3) learning_rate, then per trainable
/// variable its slots.
public struct KerasOptimizerWeight: Sendable, Equatable {
    public enum Values: Sendable, Equatable {
        case float32([Float])
        /// The step counter (`iteration`) is int64 in both generations.
        case int64([Int64])
    }

    public var name: String
    /// `[]` for a scalar.
    public var shape: [Int]
    public var values: Values

    public init(name: String, shape: [Int], values: Values) {
        self.name = name
        self.shape = shape
        self.values = values
    }

    /// A float32 variable holding a tensor's values.
    public init(name: String, tensor: Tensor) {
        self.init(name: name, shape: tensor.shape, values: .float32(tensor.scalars))
    }

    var count: Int {
        switch values {
        case .float32(let v): return v.count
        case .int64(let v): return v.count
        }
    }
}

/// What to write besides the model's layers and weights.
public struct KerasSaveOptions: Sendable {
    /// The layout of a legacy `.h5` file (a `.keras` archive is always Keras 3).
    public var generation: KerasGeneration = .keras3
    /// The model config to store. Nil: generated from the runtime model
    /// (`KerasCodecs`). A config kept from a source file is used only
    /// when it is in the dialect being written (see `preserving(_:for:)`).
    public var modelConfig: JSONValue?
    /// Keras's `training_config` (`loss`, `metrics`, `optimizer_config`, ...)
    /// of a compiled model; a `.keras` archive stores it as `compile_config`.
    public var trainingConfig: JSONValue?
    /// Optimizer state, in the target generation's layout; written only when
    /// `trainingConfig` is present (Keras restores it only for a compiled model).
    public var optimizerWeights: [KerasOptimizerWeight]?
    /// `keras_version` to record; nil: `generation.formatVersion`.
    public var kerasVersion: String?
    public var backend = "tensorflow"

    public init(generation: KerasGeneration = .keras3, modelConfig: JSONValue? = nil, trainingConfig: JSONValue? = nil,
                optimizerWeights: [KerasOptimizerWeight]? = nil) {
        self.generation = generation
        self.modelConfig = modelConfig
        self.trainingConfig = trainingConfig
        self.optimizerWeights = optimizerWeights
    }
}
