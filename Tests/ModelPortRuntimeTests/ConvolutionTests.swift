import Foundation
import ModelPortRuntime
import Testing
import TestSupport

/// Direct, loop-by-loop convolution in Double: the definition, with no
/// im2col and no BLAS, to check the fast path against.
func naiveConv2D(_ x: Tensor, kernel w: Tensor, bias: Tensor?, strides: (Int, Int), dilation: (Int, Int),
                 padTop: Int, padLeft: Int, outHeight: Int, outWidth: Int) -> Tensor {
    let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let (kh, kw, f) = (w.shape[0], w.shape[1], w.shape[3])
    var y = Tensor(zeros: [n, outHeight, outWidth, f])
    for b in 0..<n {
        for oy in 0..<outHeight {
            for ox in 0..<outWidth {
                for o in 0..<f {
                    var acc = Double(bias?.scalars[o] ?? 0)
                    for i in 0..<kh {
                        for j in 0..<kw {
                            let iy = oy * strides.0 - padTop + i * dilation.0
                            let ix = ox * strides.1 - padLeft + j * dilation.1
                            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                            for ch in 0..<c {
                                acc += Double(x.scalars[((b * h + iy) * wd + ix) * c + ch])
                                    * Double(w.scalars[((i * kw + j) * c + ch) * f + o])
                            }
                        }
                    }
                    y.scalars[((b * outHeight + oy) * outWidth + ox) * f + o] = Float(acc)
                }
            }
        }
    }
    return y
}

/// Random kernel values scaled by 1/sqrt(window size), as trained and
/// Keras-initialised kernels are, so outputs stay O(1) at any width.
func scaledKernel(_ conv: Conv2D, seed: UInt64) -> Tensor {
    var k = randomTensor(conv.kernel.shape, seed: seed)
    let scale = 1 / Float(conv.kernel.shape[0] * conv.kernel.shape[1] * conv.kernel.shape[2]).squareRoot()
    k.scalars = k.scalars.map { $0 * scale }
    return k
}

struct ConvolutionTests {
    struct Case: Sendable, CustomStringConvertible {
        var h: Int, w: Int, c: Int, f: Int, k: (Int, Int), s: (Int, Int), d: (Int, Int)
        var padding: WindowGeometry.Padding, bias: Bool
        var description: String { "\(h)x\(w)x\(c) k\(k) s\(s) d\(d) \(padding) bias:\(bias)" }
    }

    static let cases: [Case] = [
        Case(h: 8, w: 8, c: 1, f: 4, k: (3, 3), s: (1, 1), d: (1, 1), padding: .valid, bias: true),
        Case(h: 7, w: 9, c: 3, f: 5, k: (3, 2), s: (2, 1), d: (1, 1), padding: .valid, bias: false),
        Case(h: 7, w: 6, c: 2, f: 3, k: (3, 3), s: (1, 1), d: (1, 1), padding: .same, bias: true),
        Case(h: 8, w: 7, c: 2, f: 3, k: (4, 4), s: (2, 3), d: (1, 1), padding: .same, bias: true),
        Case(h: 9, w: 9, c: 2, f: 2, k: (3, 3), s: (1, 1), d: (2, 2), padding: .same, bias: true),
        Case(h: 5, w: 5, c: 4, f: 6, k: (1, 1), s: (1, 1), d: (1, 1), padding: .valid, bias: true),
        // Single channel, stride 1 across the width: the transposed column layout.
        Case(h: 7, w: 9, c: 1, f: 3, k: (3, 3), s: (2, 1), d: (2, 1), padding: .same, bias: true),
        Case(h: 6, w: 5, c: 1, f: 2, k: (2, 4), s: (1, 1), d: (1, 1), padding: .same, bias: false),
        Case(h: 3, w: 4, c: 1, f: 2, k: (5, 5), s: (1, 1), d: (1, 1), padding: .same, bias: true),
        // Wide 3x3 stride-1 convolutions: Winograd on the kernel families
        // (odd output: tiles over the edge; "same" padding; 48 filters =
        // 3 AVX2 vectors; 16 channels: Winograd on AVX2, direct on AVX-512).
        Case(h: 13, w: 13, c: 32, f: 64, k: (3, 3), s: (1, 1), d: (1, 1), padding: .valid, bias: true),
        Case(h: 12, w: 10, c: 16, f: 32, k: (3, 3), s: (1, 1), d: (1, 1), padding: .same, bias: false),
        Case(h: 9, w: 11, c: 64, f: 48, k: (3, 3), s: (1, 1), d: (1, 1), padding: .valid, bias: true),
        // Wide but strided, dilated, or 5x5: direct, with many panels.
        Case(h: 11, w: 11, c: 32, f: 40, k: (3, 3), s: (2, 2), d: (1, 1), padding: .same, bias: true),
        Case(h: 11, w: 11, c: 16, f: 33, k: (3, 3), s: (1, 1), d: (2, 2), padding: .valid, bias: true),
        Case(h: 10, w: 9, c: 17, f: 24, k: (5, 5), s: (1, 1), d: (1, 1), padding: .same, bias: false),
    ]

    /// The layer's convolution computed by the naive loops.
    static func naive(_ conv: Conv2D, _ x: Tensor, _ t: Case) throws -> Tensor {
        let g = try WindowGeometry(inHeight: t.h, inWidth: t.w, kernel: t.k, strides: t.s, dilation: t.d, padding: t.padding)
        return naiveConv2D(x, kernel: conv.kernel.value, bias: conv.bias?.value, strides: t.s, dilation: t.d,
                           padTop: g.padTop, padLeft: g.padLeft, outHeight: g.outHeight, outWidth: g.outWidth)
    }

    /// On every kernel family this CPU runs (CPUKernels).
    @Test(arguments: cases, CPUKernels.supportedChoices)
    func matchesDirectConvolution(_ t: Case, _ choice: CPUKernels.Choice) throws {
        let conv = Conv2D(name: "c", inputChannels: t.c, filters: t.f, kernelSize: t.k, strides: t.s,
                          dilation: t.d, padding: t.padding, useBias: t.bias)
        conv.kernel.value = scaledKernel(conv, seed: 1)
        if let b = conv.bias { b.value = randomTensor(b.shape, seed: 2) }
        let x = randomTensor([3, t.h, t.w, t.c], seed: 3)
        let expected = try Self.naive(conv, x, t)
        let y = try CPUKernels.with(choice) { conv.forward(x) }
        #expect(y.shape == expected.shape)
        #expect(try conv.outputShape(for: [t.h, t.w, t.c]) == Array(expected.shape.dropFirst()))
        #expect(maxAbsDifference(y, expected) < 1e-5)
    }

    /// One image with intra-op threads (as `predict` runs a batch of one):
    /// bands of output rows are unfolded and multiplied on different threads.
    @Test(arguments: cases, CPUKernels.supportedChoices)
    func singleImageSplitIntoRowBandsMatches(_ t: Case, _ choice: CPUKernels.Choice) throws {
        let conv = Conv2D(name: "c", inputChannels: t.c, filters: t.f, kernelSize: t.k, strides: t.s,
                          dilation: t.d, padding: t.padding, activation: .relu, useBias: t.bias)
        conv.kernel.value = scaledKernel(conv, seed: 4)
        if let b = conv.bias { b.value = randomTensor(b.shape, seed: 5) }
        let x = randomTensor([1, t.h, t.w, t.c], seed: 6)
        var expected = try Self.naive(conv, x, t)
        for i in 0..<expected.count { expected.scalars[i] = max(expected.scalars[i], 0) }
        let y = try CPUKernels.with(choice) { IntraOp.$threads.withValue(2) { conv.forward(x) } }
        #expect(y.shape == expected.shape)
        #expect(maxAbsDifference(y, expected) < 1e-5)
    }

    /// Convolutions (ReLU) for the fused convolution + 2x2 max-pooling kernel:
    /// odd output heights (a row the pooling never reads), one channel
    /// (transposed columns), a 1x1 convolution (no unfolding), filter counts
    /// with and without a SIMD tail, strides, dilation and "same" padding.
    static let pooledCases: [Case] = [
        Case(h: 9, w: 8, c: 1, f: 11, k: (3, 3), s: (1, 1), d: (1, 1), padding: .valid, bias: true),
        Case(h: 8, w: 9, c: 3, f: 16, k: (3, 3), s: (1, 1), d: (1, 1), padding: .same, bias: true),
        Case(h: 10, w: 7, c: 2, f: 9, k: (3, 2), s: (2, 1), d: (1, 1), padding: .same, bias: false),
        Case(h: 6, w: 6, c: 4, f: 8, k: (1, 1), s: (1, 1), d: (1, 1), padding: .valid, bias: true),
        Case(h: 9, w: 9, c: 1, f: 5, k: (3, 3), s: (1, 1), d: (2, 1), padding: .same, bias: true),
        // Winograd with the pooling fused into its output transform (the
        // tutorial CNN's second convolution; "same" padding, odd width).
        Case(h: 13, w: 13, c: 32, f: 64, k: (3, 3), s: (1, 1), d: (1, 1), padding: .valid, bias: true),
        Case(h: 10, w: 9, c: 32, f: 16, k: (3, 3), s: (1, 1), d: (1, 1), padding: .same, bias: false),
    ]

    /// The fused kernel gives what the two layers give one after the other,
    /// for a batch (with a NaN, which must propagate to the same places) and
    /// for one image split into bands of pooled rows on intra-op threads.
    @Test(arguments: pooledCases, CPUKernels.supportedChoices)
    func reluConvolutionFusedWithMaxPoolingMatchesTheLayers(_ t: Case, _ choice: CPUKernels.Choice) throws {
        let conv = Conv2D(name: "c", inputChannels: t.c, filters: t.f, kernelSize: t.k, strides: t.s,
                          dilation: t.d, padding: t.padding, activation: .relu, useBias: t.bias)
        conv.kernel.value = scaledKernel(conv, seed: 7)
        if let b = conv.bias { b.value = randomTensor(b.shape, seed: 8) }
        let pool = MaxPooling2D(name: "p")
        #expect(conv.fusesWithMaxPool2x2(pool))
        var x = randomTensor([3, t.h, t.w, t.c], seed: 9)
        x.scalars[t.h * t.w * t.c + 5] = .nan  // in the second image
        for (input, threads) in [(x, 1), (x.batch(1..<2), 2), (x.batch(0..<1), 2)] {
            let expected = try CPUKernels.with(.blas) { pool.forward(conv.forward(input)) }
            let fused = try CPUKernels.with(choice) { IntraOp.$threads.withValue(threads) { conv.forwardReLUMaxPool2x2(input) } }
            #expect(fused.shape == expected.shape)
            // Sums in another order (OpenBLAS's blocking depends on the
            // matrix shape; the kernel families, Winograd's transforms).
            let tolerance: Float = 1e-5
            let agree = zip(fused.scalars, expected.scalars).allSatisfy { a, b in
                a.isNaN ? b.isNaN : (!b.isNaN && abs(a - b) <= tolerance * max(1, abs(b)))
            }
            #expect(agree, "\(t), \(choice), batch \(input.batchCount), \(threads) threads")
        }
        #expect(pool.forward(conv.forward(x)).scalars.contains { $0.isNaN })
    }

    /// TensorFlow's "same" rule: output = ceil(in / stride); the odd padding
    /// row/column goes after the image.
    @Test func samePaddingGeometry() throws {
        let g = try WindowGeometry(inHeight: 8, inWidth: 7, kernel: (4, 4), strides: (2, 3), padding: .same)
        #expect(g.outHeight == 4 && g.outWidth == 3)
        // total padding: H (4-1)*2+4-8 = 2 -> top 1; W (3-1)*3+4-7 = 3 -> left 1
        #expect(g.padTop == 1 && g.padLeft == 1)
    }

    @Test func rejectsWrongChannelCount() {
        let conv = Conv2D(name: "conv", inputChannels: 3, filters: 2, kernelSize: (3, 3))
        #expect(throws: RuntimeError.self) { try conv.outputShape(for: [8, 8, 1]) }
    }

    @Test func rejectsWindowLargerThanValidInput() {
        let conv = Conv2D(name: "conv", inputChannels: 1, filters: 2, kernelSize: (5, 5))
        #expect(throws: RuntimeError.self) { try conv.outputShape(for: [4, 4, 1]) }
    }
}
