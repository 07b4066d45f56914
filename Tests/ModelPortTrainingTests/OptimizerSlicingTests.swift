import Testing
import ModelPortRuntime
import TestSupport

/// Parameters of `Optimizer.parallelUpdateSize` elements or more are updated
/// in slices on several threads; every element must come out exactly as one
/// pass of the rule over the whole buffer gives it (the rules themselves are
/// checked against Keras in OptimizerStepTests, on parameters below the size).
@Suite struct OptimizerSlicingTests {
    static let names = ["adam", "adam_amsgrad", "adamw", "sgd", "sgd_nesterov", "rmsprop_centered_momentum"]

    static func optimizer(_ name: String) -> Optimizer {
        switch name {
        case "adam_amsgrad": .adam(amsgrad: true)
        case "adamw": .adamW()
        case "sgd": .sgd()
        case "sgd_nesterov": .sgd(momentum: 0.9, nesterov: true)
        case "rmsprop_centered_momentum": .rmsprop(momentum: 0.5, centered: true)
        default: .adam()
        }
    }

    @Test(arguments: names)
    func slicedUpdateEqualsOnePass(name: String) throws {
        let count = 3 * 65_536 + 5      // large enough to be sliced, not a multiple of 8
        let start = randomTensor([count], seed: 7).scalars
        let steps = (0..<3).map { randomTensor([count], seed: 100 + UInt64($0)).scalars.map { $0 * 0.1 } }

        // Sliced: Optimizer.apply.
        let p = Parameter(name: "w", value: Tensor(shape: [count], scalars: start))
        let optimizer = Self.optimizer(name)
        let gradients = Gradients(parameters: [p])
        for g in steps {
            gradients.withMutableBuffer(at: 0) { b in for i in 0..<count { b[i] = g[i] } }
            optimizer.apply(gradients)
        }

        // One pass: the same rule over the whole buffers.
        let reference = Self.optimizer(name)
        var w = start
        let slotCount = reference.rule.slotNames.count
        var state = [Float](repeating: 0, count: slotCount * count)     // slot-major, like the optimizer's
        for (k, g) in steps.enumerated() {
            let lr = reference.learningRate.value(at: k)
            if let wd = reference.weightDecay { for i in 0..<count { w[i] -= w[i] * (wd * lr) } }
            w.withUnsafeMutableBufferPointer { wb in
                g.withUnsafeBufferPointer { gb in
                    state.withUnsafeMutableBufferPointer { all in
                        let sb = (0..<slotCount).map { UnsafeMutableBufferPointer(rebasing: all[($0 * count)..<(($0 + 1) * count)]) }
                        reference.rule.update(value: wb, gradient: gb, slots: sb, learningRate: lr, step: k + 1)
                    }
                }
            }
        }
        let mismatches = (0..<count).filter { p.value.scalars[$0].bitPattern != w[$0].bitPattern }
        #expect(mismatches.isEmpty, "\(name): \(mismatches.count) elements differ, first at \(mismatches.first ?? -1)")
        for s in 0..<slotCount {
            #expect(optimizer.slot(s, of: 0).scalars == Array(state[(s * count)..<((s + 1) * count)]), "\(name): slot \(reference.rule.slotNames[s]) differs")
        }
    }
}
