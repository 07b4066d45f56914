import ModelPortRuntime

/// Keras's random augmentation layers (`RandomFlip`, `RandomRotation`, ...):
/// the identity at inference, so an exported inference graph holds no node
/// for them. ONNX has no augmentation operators to import.
extension ONNXFamily {
    static let augmentation = ONNXFamily(
        "augmentation",
        imports: [],
        exports: [
            .layer(RandomAugmentation.self, RandomAugmentation.Kind.allCases.map(\.rawValue)) { _, x, _ in x[0] },
        ])
}
