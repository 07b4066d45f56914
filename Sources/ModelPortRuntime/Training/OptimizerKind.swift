/// The optimizers ModelPort implements, named as Keras names them
/// (`optimizer="adam"` or the class `Adam`), each with Keras's default
/// learning rate: the one place that map lives.
public enum OptimizerKind: String, CaseIterable, Sendable {
    case adam, adamw, sgd, rmsprop

    /// A Keras optimizer name or class name, in any case (`"adam"`, `"AdamW"`, `"SGD"`).
    public init?(name: String) {
        self.init(rawValue: name.lowercased())
    }

    /// Keras's class name (`"RMSprop"`).
    public var kerasClassName: String {
        switch self {
        case .adam: "Adam"
        case .adamw: "AdamW"
        case .sgd: "SGD"
        case .rmsprop: "RMSprop"
        }
    }

    /// Keras's default learning rate: 0.01 for SGD, 0.001 for the others.
    public var defaultLearningRate: Float {
        self == .sgd ? 0.01 : 0.001
    }

    /// A fresh optimizer of this kind with Keras's defaults, at
    /// `learningRate` (default: `defaultLearningRate`, constant).
    public func makeOptimizer(learningRate: LearningRateSchedule? = nil) -> Optimizer {
        let rate = learningRate ?? .constant(defaultLearningRate)
        switch self {
        case .adam: return .adam(learningRate: rate)
        case .adamw: return .adamW(learningRate: rate)
        case .sgd: return .sgd(learningRate: rate)
        case .rmsprop: return .rmsprop(learningRate: rate)
        }
    }

    /// "adam, adamw, sgd, rmsprop", for messages and help.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
