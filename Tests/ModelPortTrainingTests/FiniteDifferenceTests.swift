import Testing
import ModelPortRuntime
import TestSupport

/// Backward passes checked against central finite differences of the
/// forward pass: for a random weighting `w`, the objective
/// `L = sum(w * forward(x))` must have dL/dx and dL/dparameters equal to
/// what `backward(w)` returns. Small random layers, NHWC inputs; float32
/// differences with step 1e-2 agree to about 1e-2 relative.
@Suite struct FiniteDifferenceTests {
    /// Checks input and parameter gradients of one layer at input `x`.
    func check(_ layer: any TrainableLayer, input x: Tensor, seed: UInt64 = 7, tolerance: Float = 2e-2) {
        for p in layer.parameters where p.trainable {
            p.value = randomTensor(p.shape, seed: seed &+ UInt64(p.value.count))
        }
        let context = TrainingContext(training: true, seed: 3)
        let (y, cache) = layer.forward(x, context: context)
        let w = randomTensor(y.shape, seed: seed &+ 99)
        let gradients = Gradients(parameters: layer.parameters.filter(\.trainable))
        gradients.zero()
        let dx = layer.backward(w, cache: cache, gradients: gradients)
        #expect(dx.shape == x.shape)

        func objective(_ input: Tensor) -> Double {
            let out = layer.forward(input, context: context).output
            return zip(out.scalars, w.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
        let h: Float = 1e-2
        func numeric(_ bump: (Float) -> Double) -> Float { Float((bump(h) - bump(-h)) / Double(2 * h)) }
        // Input gradient, every element.
        var worst: Float = 0
        let scale = max(1, dx.scalars.map(abs).max()!)
        for i in 0..<x.count {
            let n = numeric { d in var xp = x; xp.scalars[i] += d; return objective(xp) }
            worst = max(worst, abs(n - dx.scalars[i]) / scale)
        }
        #expect(worst < tolerance, "\(layer.name): input gradient off by \(worst)")
        // Parameter gradients, every element.
        for p in layer.parameters where p.trainable {
            let g = gradients[p]!
            let original = p.value
            var worstP: Float = 0
            let scaleP = max(1, g.scalars.map(abs).max()!)
            for i in 0..<original.count {
                let n = numeric { d in
                    var v = original; v.scalars[i] += d; p.value = v
                    defer { p.value = original }
                    return objective(x)
                }
                worstP = max(worstP, abs(n - g.scalars[i]) / scaleP)
            }
            #expect(worstP < tolerance, "\(layer.name).\(p.name): gradient off by \(worstP)")
        }
    }

    @Test func conv2DValid() {
        check(Conv2D(name: "c", inputChannels: 2, filters: 3, kernelSize: (3, 3), activation: .tanh),
              input: randomTensor([2, 5, 5, 2], seed: 1))
    }

    @Test func conv2DSameStridedDilated() {
        check(Conv2D(name: "c", inputChannels: 2, filters: 2, kernelSize: (3, 2), strides: (2, 1), padding: .same),
              input: randomTensor([2, 5, 6, 2], seed: 2))
        check(Conv2D(name: "d", inputChannels: 1, filters: 2, kernelSize: (2, 2), dilation: (2, 2), padding: .same, activation: .sigmoid),
              input: randomTensor([1, 5, 5, 1], seed: 3))
        check(Conv2D(name: "p", inputChannels: 3, filters: 2, kernelSize: (1, 1), activation: .softplus),
              input: randomTensor([2, 3, 3, 3], seed: 4))
    }

    /// Single-channel inputs with stride 1 across the width use the
    /// transposed column layout (im2colTransposed / col2imTransposed).
    @Test func conv2DSingleChannelTransposedColumns() {
        check(Conv2D(name: "g", inputChannels: 1, filters: 3, kernelSize: (3, 3), activation: .relu),
              input: randomTensor([2, 6, 5, 1], seed: 5))
        check(Conv2D(name: "s", inputChannels: 1, filters: 2, kernelSize: (3, 4), strides: (2, 1), dilation: (2, 1),
                     padding: .same, activation: .tanh),
              input: randomTensor([2, 6, 5, 1], seed: 6))
    }

    @Test func denseWithEachDifferentiableActivation() {
        for activation in Activation.allCases where activation.isDifferentiable {
            check(Dense(name: "dense_\(activation.rawValue)", inputUnits: 4, units: 3, activation: activation),
                  input: randomTensor([3, 4], seed: 5))
        }
    }

    @Test func poolingFlattenReshape() {
        // Distinct values, so no ties sit within a finite-difference step.
        let distinct = Tensor(shape: [2, 5, 5, 2], scalars: (0..<100).map { Float(($0 * 37) % 100) / 10 })
        check(MaxPooling2D(name: "max", poolSize: (2, 2)), input: distinct)
        check(MaxPooling2D(name: "max_same", poolSize: (3, 3), strides: (2, 2), padding: .same), input: distinct)
        check(AveragePooling2D(name: "avg_same", poolSize: (2, 2), padding: .same), input: randomTensor([2, 5, 5, 2], seed: 6))
        check(Flatten(name: "flatten"), input: randomTensor([2, 3, 2, 2], seed: 7))
        check(Reshape(name: "reshape", targetShape: [6, -1]), input: randomTensor([2, 3, 2, 2], seed: 8))
    }

    @Test func dropoutUsesTheSameMaskForwardAndBackward() {
        let layer = Dropout(name: "dropout", rate: 0.4)
        check(layer, input: randomTensor([4, 10], seed: 9))
        let (y, _) = layer.forward(Tensor(shape: [1, 1000], scalars: .init(repeating: 1, count: 1000)),
                                   context: TrainingContext(training: true, seed: 1))
        let kept = y.scalars.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.6) < 1e-6 })
        #expect(abs(Double(kept.count) / 1000 - 0.6) < 0.05)
        #expect(layer.forward(y, context: .inference).output == y)
    }

    @Test func batchNormalizationInTrainingMode() {
        let bn = BatchNormalization(name: "bn", channels: 3)
        check(bn, input: randomTensor([4, 2, 2, 3], seed: 10), tolerance: 3e-2)
    }

    /// Equal shapes, and Keras's broadcasting of size-1 axes (a squeeze-and-excitation
    /// [H, W, C] x [1, 1, C]; both inputs broadcast at once) for the element-wise merges.
    @Test(arguments: [[[2, 3], [2, 3], [2, 3]], [[2, 2, 2, 3], [2, 1, 1, 3], [2, 2, 2, 3]], [[2, 1, 3], [2, 2, 1], [2, 2, 3]]])
    func mergesThroughAFunctionalGraph(_ shapes: [[Int]]) throws {
        for operation in Merge.Operation.allCases where operation != .subtract {
            if operation == .concatenate && shapes[0] != shapes[1] { continue }
            let merge = Merge(name: operation.rawValue, operation: operation, axis: -1)
            let a = randomTensor(shapes[0], seed: 11), b = randomTensor(shapes[1], seed: 12), c = randomTensor(shapes[2], seed: 13)
            let (y, cache) = merge.forward(inputs: [a, b, c], context: TrainingContext())
            let w = randomTensor(y.shape, seed: 14)
            let grads = merge.backward(inputsGradient: w, cache: cache, gradients: Gradients(parameters: []))
            for (k, input) in [a, b, c].enumerated() {
                for i in 0..<input.count {
                    func f(_ d: Float) -> Double {
                        var ins = [a, b, c]; ins[k].scalars[i] += d
                        let out = merge.forward(inputs: ins)
                        return zip(out.scalars, w.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                    }
                    let numeric = Float((f(1e-2) - f(-1e-2)) / 2e-2)
                    #expect(abs(numeric - grads[k].scalars[i]) < 2e-2, "\(operation) input \(k) element \(i)")
                }
            }
        }
    }
}
