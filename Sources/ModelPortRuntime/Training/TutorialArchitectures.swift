/// The four MNIST tutorial architectures ModelPort grew from (the same
/// layer stacks as tools/make_fixtures.py builds in Keras), with their
/// tutorial training settings. Inputs are NHWC `28x28x1` images scaled to
/// [0, 1] (the MLP takes `28x28`); outputs are 10 softmax probabilities.
public struct TutorialArchitecture: Sendable {
    public let name: String
    public let summary: String
    public let loss: Loss
    public let epochs: Int
    public let batchSize: Int
    public let validationSplit: Double
    public let inputShape: [Int]
    let build: @Sendable () -> [any Layer]

    /// A fresh model with zero weights (initialise with `Initializers.initialize`).
    public func makeModel() -> Sequential {
        try! Sequential(name: name, inputShape: inputShape, layers: build())
    }

    public static let all: [TutorialArchitecture] = [
        TutorialArchitecture(
            name: "mnist_digit_model",
            summary: "Conv2D(32)-MaxPool-Conv2D(64)-MaxPool-Conv2D(64)-Flatten-Dense(64)-Dense(10)",
            loss: .categoricalCrossentropy(), epochs: 5, batchSize: 64, validationSplit: 0, inputShape: [28, 28, 1]) {
            [Conv2D(name: "conv2d", inputChannels: 1, filters: 32, kernelSize: (3, 3), activation: .relu),
             MaxPooling2D(name: "max_pooling2d"),
             Conv2D(name: "conv2d_1", inputChannels: 32, filters: 64, kernelSize: (3, 3), activation: .relu),
             MaxPooling2D(name: "max_pooling2d_1"),
             Conv2D(name: "conv2d_2", inputChannels: 64, filters: 64, kernelSize: (3, 3), activation: .relu),
             Flatten(name: "flatten"),
             Dense(name: "dense", inputUnits: 3 * 3 * 64, units: 64, activation: .relu),
             Dense(name: "dense_1", inputUnits: 64, units: 10, activation: .softmax)]
        },
        TutorialArchitecture(
            name: "mnist_cnn",
            summary: "Conv2D(32)-MaxPool-Conv2D(64)-MaxPool-Flatten-Dense(128)-Dense(10)",
            loss: .categoricalCrossentropy(), epochs: 10, batchSize: 128, validationSplit: 0, inputShape: [28, 28, 1]) {
            [Conv2D(name: "conv2d", inputChannels: 1, filters: 32, kernelSize: (3, 3), activation: .relu),
             MaxPooling2D(name: "max_pooling2d"),
             Conv2D(name: "conv2d_1", inputChannels: 32, filters: 64, kernelSize: (3, 3), activation: .relu),
             MaxPooling2D(name: "max_pooling2d_1"),
             Flatten(name: "flatten"),
             Dense(name: "dense", inputUnits: 5 * 5 * 64, units: 128, activation: .relu),
             Dense(name: "dense_1", inputUnits: 128, units: 10, activation: .softmax)]
        },
        TutorialArchitecture(
            name: "mnist_conv_pair",
            summary: "Conv2D(64)-Conv2D(32)-MaxPool-Flatten-Dense(10)",
            loss: .categoricalCrossentropy(), epochs: 3, batchSize: 32, validationSplit: 0, inputShape: [28, 28, 1]) {
            [Conv2D(name: "conv2d", inputChannels: 1, filters: 64, kernelSize: (3, 3), activation: .relu),
             Conv2D(name: "conv2d_1", inputChannels: 64, filters: 32, kernelSize: (3, 3), activation: .relu),
             MaxPooling2D(name: "max_pooling2d"),
             Flatten(name: "flatten"),
             Dense(name: "dense", inputUnits: 12 * 12 * 32, units: 10, activation: .softmax)]
        },
        TutorialArchitecture(
            name: "mnist_mlp",
            summary: "Flatten-Dense(128)-Dense(64)-Dense(10)",
            loss: .sparseCategoricalCrossentropy(), epochs: 10, batchSize: 32, validationSplit: 0.2, inputShape: [28, 28]) {
            [Flatten(name: "flatten"),
             Dense(name: "dense", inputUnits: 784, units: 128, activation: .relu),
             Dense(name: "dense_1", inputUnits: 128, units: 64, activation: .relu),
             Dense(name: "dense_2", inputUnits: 64, units: 10, activation: .softmax)]
        },
    ]

    public static func named(_ name: String) -> TutorialArchitecture? { all.first { $0.name == name } }
}
