import Testing
import ModelPortRuntime
import TestSupport

/// Finite-difference checks of the ONNX-only layers' backward passes
/// (local response, instance and Lp normalization, ONNX pooling, Pad's
/// modes, ONNX Resize, 3-D and transposed convolutions), with `FiniteDifferenceTests.check`.
extension FiniteDifferenceTests {
    @Test func localResponseNormalization() {
        check(LocalResponseNormalization(name: "lrn", size: 3, alpha: 0.5, beta: 0.75, bias: 1.5), input: randomTensor([2, 2, 3, 5], seed: 60))
        check(LocalResponseNormalization(name: "lrn_even", size: 4, alpha: 0.8, beta: 0.6, bias: 1), input: randomTensor([2, 3, 6], seed: 61))
    }

    @Test func instanceNormalization() {
        check(InstanceNormalization(name: "in", channels: 3, epsilon: 1e-3), input: randomTensor([2, 3, 4, 3], seed: 62), tolerance: 3e-2)
        check(InstanceNormalization(name: "in_seq", channels: 2), input: randomTensor([3, 5, 2], seed: 63), tolerance: 3e-2)
    }

    @Test func lpNormalization() {
        // Entries kept away from zero, where |x| has its kink.
        var x = randomTensor([2, 3, 4], seed: 64)
        for i in 0..<x.count where abs(x.scalars[i]) < 0.1 { x.scalars[i] = 0.3 }
        check(LpNormalization(name: "l1", axis: 1, p: 1), input: x, tolerance: 3e-2)
        check(LpNormalization(name: "l2", axis: 0, p: 2), input: x, tolerance: 3e-2)
    }

    @Test func windowPooling() {
        // Distinct values, so every window has one maximum.
        let distinct = Tensor(shape: [2, 5, 6, 2], scalars: (0..<120).map { Float(($0 * 37) % 120) / 13 })
        check(WindowPooling(name: "max_ceil", kind: .max, kernel: [3, 2], strides: [2, 2], dilations: [1, 2], padsBegin: [1, 0],
                            padsEnd: [1, 1], ceilMode: true), input: distinct)
        check(WindowPooling(name: "avg_include", kind: .average(countIncludePad: true), kernel: [3, 3], strides: [2, 1], dilations: [1, 1],
                            padsBegin: [1, 2], padsEnd: [2, 0], ceilMode: true), input: randomTensor([2, 5, 4, 2], seed: 65))
        check(WindowPooling(name: "avg_3d", kind: .average(countIncludePad: false), kernel: [2, 2, 2], strides: [1, 2, 2], dilations: [1, 1, 2],
                            padsBegin: [0, 1, 1], padsEnd: [1, 0, 1], ceilMode: false), input: randomTensor([1, 3, 4, 5, 2], seed: 66))
    }

    @Test func padModes() {
        for mode in [Pad2D.Mode.constant(0.7), .reflect, .edge, .wrap] {
            check(Pad2D(name: "pad", mode: mode, top: 2, bottom: 1, left: 0, right: 3), input: randomTensor([2, 3, 4, 2], seed: 67))
        }
    }

    @Test func resize() {
        let x = randomTensor([2, 3, 4, 2], seed: 68)
        check(Resize2D(name: "cubic", mode: .cubic(a: -0.75, excludeOutside: false), transformation: .halfPixel, outputSize: (5, 3),
                       scales: (5.0 / 3, 0.75)), input: x)
        check(Resize2D(name: "linear", mode: .linear, transformation: .alignCorners, outputSize: (2, 7), scales: (2.0 / 3, 1.75)), input: x)
        check(Resize2D(name: "antialias", mode: .cubic(a: -0.5, excludeOutside: false), transformation: .halfPixel, outputSize: (2, 3),
                       scales: (2.0 / 3, 0.75), antialias: true), input: x)
        check(Resize2D(name: "crop", mode: .linear, transformation: .tfCropAndResize, outputSize: (4, 3), scales: (4.0 / 3, 0.75),
                       roi: ((0.2, 0.9), (-0.3, 1.2)), extrapolationValue: 2), input: x)
        check(Resize2D(name: "nearest", mode: .nearest(.roundPreferCeil), transformation: .asymmetric, outputSize: (7, 5),
                       scales: (2.5, 1.25)), input: x)
    }

    @Test func windowConvolution() {
        check(WindowConvolution(name: "conv3d", inputChannels: 4, filters: 4, kernelSize: [2, 2, 3], strides: [1, 2, 1], dilations: [2, 1, 1],
                                padsBegin: [1, 0, 1], padsEnd: [0, 1, 1], groups: 2), input: randomTensor([2, 3, 4, 3, 4], seed: 69))
        check(WindowConvolution(name: "conv3d_no_bias", inputChannels: 2, filters: 3, kernelSize: [1, 2, 2], strides: [1, 1, 1],
                                dilations: [1, 1, 1], padsBegin: [0, 0, 0], padsEnd: [0, 0, 0], useBias: false), input: randomTensor([1, 2, 3, 3, 2], seed: 70))
    }

    @Test func windowConvTranspose() {
        check(WindowConvTranspose(name: "tconv", inputChannels: 4, filters: 6, kernelSize: [2, 3], strides: [2, 1], dilations: [1, 2],
                                  padsBegin: [1, 0], outputSize: [6, 7], groups: 2), input: randomTensor([2, 3, 3, 4], seed: 71))
        check(WindowConvTranspose(name: "tconv3d", inputChannels: 2, filters: 2, kernelSize: [2, 1, 2], strides: [1, 2, 2], dilations: [1, 1, 1],
                                  padsBegin: [-1, 0, 1], outputSize: [3, 4, 3], useBias: false), input: randomTensor([2, 2, 2, 2, 2], seed: 72))
    }
}
