import Testing
import ModelPortRuntime
import TestSupport

/// Finite-difference checks of the operation layers' backward passes
/// (`ConstantArithmetic`, `UnaryMath`, `StridedSlice`, `Stack`), with
/// `FiniteDifferenceTests.check`.
extension FiniteDifferenceTests {
    /// Inputs kept away from 0 and from the constants (kinks of abs, max, min).
    static func positive(_ t: Tensor) -> Tensor {
        Tensor(shape: t.shape, scalars: t.scalars.map { abs($0) + 0.6 })
    }

    @Test func constantArithmetic() {
        // 0.63, 0.73, ...: at least 0.03 from every constant below (max/min's kinks).
        let x = Tensor(shape: [2, 3, 4, 3], scalars: (0..<72).map { 0.63 + 0.1 * Float(($0 * 7) % 29) })
        let constants = [
            Tensor(shape: [], scalars: [1.7]),
            Tensor(shape: [3], scalars: [0.5, 1.4, 2.5]),
            Tensor(shape: [1, 4, 1], scalars: [0.4, 0.9, 1.9, 3]),
        ]
        for operation in ConstantArithmetic.Operation.allCases {
            for (k, constant) in constants.enumerated() {
                for constantFirst in [false, true] {
                    let layer = ConstantArithmetic(name: "\(operation.rawValue)_\(k)_\(constantFirst)", operation: operation,
                                                   constant: constant, constantFirst: constantFirst)
                    check(layer, input: x)
                }
            }
        }
    }

    @Test func constantArithmeticBroadcastsOverTheSample() throws {
        let layer = ConstantArithmetic(name: "sub", operation: .subtract, constant: Tensor(shape: [2, 1], scalars: [10, 20]))
        #expect(try layer.outputShape(for: [3, 2, 3]) == [3, 2, 3])
        #expect(throws: RuntimeError.self) { try layer.outputShape(for: [3, 3, 3]) }
        #expect(throws: RuntimeError.self) { try layer.outputShape(for: [2]) }
        // Broadcasting the constant computes what the constant tiled to the sample's shape does.
        // (Values against Keras: ApplicationTests' preprocessing fixtures.)
        let x = randomTensor([2, 3, 2, 3], seed: 59)
        let tiled = ConstantArithmetic(name: "sub_tiled", operation: .subtract,
                                       constant: Tensor(shape: [2, 3], scalars: [10, 10, 10, 20, 20, 20]))
        #expect(layer.forward(x) == tiled.forward(x))
        let first = ConstantArithmetic(name: "div", operation: .divide, constant: Tensor(shape: [3], scalars: [2, 4, 8]), constantFirst: true)
        let firstTiled = ConstantArithmetic(name: "div_tiled", operation: .divide,
                                            constant: Tensor(shape: [3, 2, 3], scalars: (0..<18).map { [2, 4, 8][$0 % 3] }), constantFirst: true)
        #expect(first.forward(x) == firstTiled.forward(x))
    }

    @Test func unaryMath() {
        let x = Self.positive(randomTensor([2, 3, 4], seed: 51))
        for function in UnaryMath.Function.allCases {
            check(UnaryMath(name: function.rawValue, function: function), input: x)
        }
        var signed = randomTensor([2, 3, 4], seed: 52)
        for i in 0..<signed.count where abs(signed.scalars[i]) < 0.05 { signed.scalars[i] = 0.1 }
        check(UnaryMath(name: "abs_signed", function: .absolute), input: signed)
        check(UnaryMath(name: "neg_signed", function: .negative), input: signed)
        check(UnaryMath(name: "square_signed", function: .square), input: signed)
    }

    @Test func stridedSlice() throws {
        let x = randomTensor([2, 4, 5, 3], seed: 53)
        let reverse = StridedSlice(name: "reverse", axes: [.all, .all, .range(start: nil, stop: nil, step: -1)])
        #expect(try reverse.outputShape(for: [4, 5, 3]) == [4, 5, 3])
        check(reverse, input: x)
        let channel = StridedSlice(name: "channel", axes: [.all, .all, .index(-1)])
        #expect(try channel.outputShape(for: [4, 5, 3]) == [4, 5])
        check(channel, input: x)
        let strided = StridedSlice(name: "strided", axes: [.range(start: 1, stop: nil, step: 2), .range(start: -1, stop: 0, step: -2), .index(0)])
        check(strided, input: x)
        // Reversing twice is the identity; bounds beyond the axis are clamped as in Python.
        // (Python's positions for x[:, 1::2, -1:0:-2] against Keras: ApplicationTests' math_and_slicing.)
        #expect(reverse.forward(reverse.forward(x)) == x)
        let size = 5
        #expect(try StridedSlice.positions(.range(start: -10 * size, stop: 10 * size, step: 1), size: size) == Array(0..<size))
        #expect(throws: RuntimeError.self) { try StridedSlice.positions(.index(3), size: 3) }
        #expect(throws: RuntimeError.self) { try StridedSlice(name: "empty", axes: [.range(start: 2, stop: 1, step: 1)]).outputShape(for: [3]) }
    }

    @Test func stack() throws {
        for axis in [0, 1, -1] {
            let layer = Stack(name: "stack_\(axis)", axis: axis)
            let a = randomTensor([2, 3, 2], seed: 54), b = randomTensor([2, 3, 2], seed: 55), c = randomTensor([2, 3, 2], seed: 56)
            var expected = [3, 2]
            expected.insert(3, at: axis < 0 ? expected.count + 1 + axis : axis)
            #expect(try layer.outputShape(forInputs: [[3, 2], [3, 2], [3, 2]]) == expected)
            let (y, cache) = layer.forward(inputs: [a, b, c], context: TrainingContext())
            #expect(y.sampleShape == expected)
            let w = randomTensor(y.shape, seed: 57)
            let grads = layer.backward(inputsGradient: w, cache: cache, gradients: Gradients(parameters: []))
            for (k, input) in [a, b, c].enumerated() {
                for i in 0..<input.count {
                    func f(_ d: Float) -> Double {
                        var ins = [a, b, c]; ins[k].scalars[i] += d
                        let out = layer.forward(inputs: ins)
                        return zip(out.scalars, w.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
                    }
                    let numeric = Float((f(1e-2) - f(-1e-2)) / 2e-2)
                    #expect(abs(numeric - grads[k].scalars[i]) < 2e-2, "stack axis \(axis) input \(k) element \(i)")
                }
            }
        }
        // Stacking the channels of an image back: x[..., 0], x[..., 1] stacked on -1 is x.
        let x = randomTensor([2, 2, 3, 2], seed: 58)
        let parts = (0..<2).map { StridedSlice(name: "c\($0)", axes: [.all, .all, .index($0)]).forward(x) }
        #expect(Stack(name: "s", axis: -1).forward(inputs: parts) == x)
        #expect(throws: RuntimeError.self) { try Stack(name: "s", axis: 3).outputShape(forInputs: [[2, 2], [2, 2]]) }
    }
}
