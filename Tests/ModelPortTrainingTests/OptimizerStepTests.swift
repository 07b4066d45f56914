import Foundation
import Testing
import ModelPortRuntime
import TestSupport

/// Two optimizer steps on a tiny CNN from Keras's own initial weights, each
/// computing the gradient of a batch and applying it, against Keras 3's
/// `apply_gradients` (fixtures/training/optimizers.h5): the loss before each
/// step and every updated weight within 1e-6.
@Suite struct OptimizerStepTests {
    static let names = ["adam", "adam_amsgrad", "adam_clipnorm", "adam_global_clipnorm", "adamw", "sgd",
                        "sgd_momentum", "sgd_nesterov", "rmsprop", "rmsprop_centered_momentum",
                        "adam_exponential_decay", "sgd_cosine_decay"]

    /// The optimizer a fixture's `config` attribute describes (settings, not results).
    static func optimizer(from json: String) throws -> Optimizer {
        let c = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        func number(_ k: String) -> Double? { (c[k] as? NSNumber)?.doubleValue }
        let lr: LearningRateSchedule
        switch c["schedule"] as? String {
        case "exponential":
            lr = .exponentialDecay(initial: Float(number("initial")!), decaySteps: Int(number("decay_steps")!),
                                   decayRate: Float(number("decay_rate")!))
        case "cosine":
            lr = .cosineDecay(initial: Float(number("initial")!), decaySteps: Int(number("decay_steps")!),
                              alpha: Float(number("alpha")!))
        default:
            lr = .constant(Float(number("learning_rate") ?? (c["class"] as? String == "SGD" ? 0.01 : 0.001)))
        }
        let optimizer: Optimizer
        switch c["class"] as? String {
        case "Adam": optimizer = .adam(learningRate: lr, amsgrad: c["amsgrad"] as? Bool ?? false)
        case "AdamW": optimizer = .adamW(learningRate: lr)
        case "SGD": optimizer = .sgd(learningRate: lr, momentum: number("momentum") ?? 0, nesterov: c["nesterov"] as? Bool ?? false)
        case "RMSprop": optimizer = .rmsprop(learningRate: lr, momentum: number("momentum") ?? 0, centered: c["centered"] as? Bool ?? false)
        default: throw RuntimeError("unknown optimizer config \(json)")
        }
        optimizer.clipnorm = number("clipnorm").map(Float.init)
        optimizer.globalClipnorm = number("global_clipnorm").map(Float.init)
        return optimizer
    }

    /// On every kernel family this CPU runs (training's products go through it).
    @Test(arguments: names, CPUKernels.supportedChoices)
    func twoStepsMatchKeras(name: String, choice: CPUKernels.Choice) throws {
        try CPUKernels.with(choice) { try twoSteps(name: name) }
    }

    func twoSteps(name: String) throws {
        let fixture = try TrainingFixture("optimizers.h5")
        let model = try TrainingFixture.model("tiny_cnn")
        let optimizer = try Self.optimizer(from: try fixture.attribute(name, "config"))
        let trainer = try Trainer(model: model, loss: .categoricalCrossentropy(), optimizer: optimizer, threads: 1)
        let expectedLosses = try fixture.tensor("\(name)/losses").scalars
        for step in 1...2 {
            let x = try fixture.tensor("batch\(step)/x"), y = try fixture.tensor("batch\(step)/y")
            let result = trainer.trainStep(x, y)
            let loss = Float(result.loss / Double(x.batchCount))
            #expect(abs(loss - expectedLosses[step - 1]) < 1e-6, "\(name) step \(step): loss \(loss) vs Keras \(expectedLosses[step - 1])")
            for (key, parameter) in namedParameters(model) {
                let expected = try fixture.tensor("\(name)/step\(step)/\(key)")
                let difference = maxAbsDifference(parameter.value, expected)
                #expect(difference <= 1e-6, "\(name) step \(step) \(key): max difference \(difference)")
            }
        }
        #expect(optimizer.iterations == 2)
    }

    @Test func adamStateAfterOneStepIsTheBiasCorrectedFormula() throws {
        // The update in closed form for a single scalar, from Keras 3's update_step.
        let p = Parameter(name: "w", value: Tensor(shape: [1], scalars: [0.5]))
        let g = Gradients(parameters: [p])
        g.accumulate(p) { $0[0] = 0.2 }
        let adam = Optimizer.adam()
        adam.apply(g)
        let m = 0.1 * 0.2, v = 0.001 * 0.04
        let alpha = 0.001 * (1 - 0.999).squareRoot() / (1 - 0.9)
        let expected = 0.5 - m * alpha / (v.squareRoot() + 1e-7)
        #expect(abs(Double(p.value.scalars[0]) - expected) < 1e-7)
        #expect(abs(Double(adam.slot(0, of: 0).scalars[0]) - m) < 1e-8)
        #expect(abs(Double(adam.slot(1, of: 0).scalars[0]) - v) < 1e-10)
    }
}
