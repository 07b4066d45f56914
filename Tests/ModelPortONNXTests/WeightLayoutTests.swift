@testable import ModelPortONNX
import ModelPortRuntime
import Testing

/// The named weight-layout conversions (Sources/ModelPortONNX/ONNXWeightLayouts.swift):
/// each undoes its pair, and one element lands where both layouts say it should.
struct WeightLayoutTests {
    /// A tensor of `shape` whose every element is distinct (its flat index), so a wrong permutation shows.
    static func distinct(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { Float($0) })
    }

    /// The element of `t` at multi-index `index` (row-major).
    static func element(_ t: Tensor, _ index: [Int]) -> Float {
        var flat = 0
        for (axis, i) in index.enumerated() { flat = flat * t.shape[axis] + i }
        return t.scalars[flat]
    }

    @Test func convKernel() {
        let keras = Self.distinct([2, 3, 4, 5])  // (kh, kw, in, out)
        let onnx = onnxConvKernel(fromKeras: keras)
        #expect(onnx.shape == [5, 4, 2, 3])  // (out, in, kh, kw)
        #expect(Self.element(onnx, [4, 1, 0, 2]) == Self.element(keras, [0, 2, 1, 4]))
        #expect(kerasConvKernel(fromONNX: onnx) == keras)
        let w = Self.distinct([5, 4, 2, 3])
        #expect(onnxConvKernel(fromKeras: kerasConvKernel(fromONNX: w)) == w)
    }

    @Test func depthwiseKernel() {
        let keras = Self.distinct([2, 3, 4, 5])  // (kh, kw, in, multiplier)
        let onnx = onnxDepthwiseKernel(fromKeras: keras)
        #expect(onnx.shape == [20, 1, 2, 3])  // (in * multiplier, 1, kh, kw)
        // Input channel 3's filter 2 is output channel 3 * 5 + 2.
        #expect(Self.element(onnx, [3 * 5 + 2, 0, 1, 0]) == Self.element(keras, [1, 0, 3, 2]))
        #expect(kerasDepthwiseKernel(fromONNX: onnx, inputChannels: 4) == keras)
        let w = Self.distinct([20, 1, 2, 3])
        #expect(onnxDepthwiseKernel(fromKeras: kerasDepthwiseKernel(fromONNX: w, inputChannels: 4)) == w)
    }

    @Test func transposedKernel() {
        let keras = Self.distinct([2, 3, 4, 5])  // (kh, kw, filters, in)
        let onnx = onnxTransposedKernel(fromKeras: keras)
        #expect(onnx.shape == [5, 4, 2, 3])  // (in, filters, kh, kw)
        #expect(Self.element(onnx, [3, 2, 1, 1]) == Self.element(keras, [1, 1, 2, 3]))
        #expect(kerasTransposedKernel(fromONNX: onnx) == keras)
        let w = Self.distinct([5, 4, 2, 3])
        #expect(onnxTransposedKernel(fromKeras: kerasTransposedKernel(fromONNX: w)) == w)
    }

    @Test(arguments: [false, true])
    func denseKernel(_ transposed: Bool) {
        let keras = Self.distinct([3, 5])  // (in, units)
        let onnx = onnxGemmKernel(fromKeras: keras, transposed: transposed)
        #expect(onnx.shape == (transposed ? [5, 3] : [3, 5]))
        #expect(Self.element(onnx, transposed ? [4, 1] : [1, 4]) == Self.element(keras, [1, 4]))
        #expect(kerasDenseKernel(fromONNXGemm: onnx, transposed: transposed) == keras)
        let b = Self.distinct(transposed ? [5, 3] : [3, 5])
        #expect(onnxGemmKernel(fromKeras: kerasDenseKernel(fromONNXGemm: b, transposed: transposed), transposed: transposed) == b)
    }
}
