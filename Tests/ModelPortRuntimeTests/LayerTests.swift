import Foundation
import ModelPortRuntime
import Testing
import TestSupport

struct LayerTests {
    @Test func denseMatchesDefinition() {
        let dense = Dense(name: "d", inputUnits: 7, units: 5, activation: .linear)
        dense.kernel.value = randomTensor([7, 5], seed: 10)
        dense.bias!.value = randomTensor([5], seed: 11)
        let x = randomTensor([4, 7], seed: 12)
        let y = dense.forward(x)
        var expected = Tensor(zeros: [4, 5])
        for r in 0..<4 {
            for o in 0..<5 {
                var acc = Double(dense.bias!.value.scalars[o])
                for i in 0..<7 { acc += Double(x.scalars[r * 7 + i]) * Double(dense.kernel.value.scalars[i * 5 + o]) }
                expected.scalars[r * 5 + o] = Float(acc)
            }
        }
        #expect(maxAbsDifference(y, expected) < 1e-6)
    }

    @Test func denseOnRank3AppliesToLastAxis() throws {
        let dense = Dense(name: "d", inputUnits: 3, units: 2)
        dense.kernel.value = randomTensor([3, 2], seed: 20)
        let x = randomTensor([2, 4, 3], seed: 21)
        let y = dense.forward(x)
        #expect(y.shape == [2, 4, 2])
        let flat = dense.forward(x.reshaped([8, 3]))
        #expect(y.scalars == flat.scalars)
        #expect(try dense.outputShape(for: [4, 3]) == [4, 2])
    }

    @Test func maxPoolingMatchesDefinition() throws {
        for padding in [WindowGeometry.Padding.valid, .same] {
            let pool = MaxPooling2D(name: "p", poolSize: (3, 2), strides: (2, 2), padding: padding)
            let x = randomTensor([2, 7, 6, 3], seed: 30)
            let y = pool.forward(x)
            let g = try WindowGeometry(inHeight: 7, inWidth: 6, kernel: (3, 2), strides: (2, 2), padding: padding)
            #expect(y.shape == [2, g.outHeight, g.outWidth, 3])
            for b in 0..<2 { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth { for c in 0..<3 {
                var m = -Float.infinity
                for i in 0..<3 { for j in 0..<2 {
                    let iy = oy * 2 - g.padTop + i, ix = ox * 2 - g.padLeft + j
                    if iy >= 0, iy < 7, ix >= 0, ix < 6 { m = max(m, x.scalars[((b * 7 + iy) * 6 + ix) * 3 + c]) }
                } }
                #expect(y.scalars[((b * g.outHeight + oy) * g.outWidth + ox) * 3 + c] == m)
            } } } }
        }
    }

    /// The 2x2/stride-2 fast path (SIMD over channels, with a scalar tail),
    /// for a batch and for one image split into row bands on intra-op threads.
    @Test func maxPooling2x2FastPathMatchesDefinition() throws {
        let pool = MaxPooling2D(name: "p")
        for (batch, threads) in [(2, 1), (1, 2)] {
            let x = randomTensor([batch, 7, 9, 11], seed: 31)
            let y = IntraOp.$threads.withValue(threads) { pool.forward(x) }
            #expect(y.shape == [batch, 3, 4, 11])
            for b in 0..<batch { for oy in 0..<3 { for ox in 0..<4 { for c in 0..<11 {
                var m = -Float.infinity
                for i in 0..<2 { for j in 0..<2 { m = max(m, x.scalars[((b * 7 + 2 * oy + i) * 9 + 2 * ox + j) * 11 + c]) } }
                #expect(y.scalars[((b * 3 + oy) * 4 + ox) * 11 + c] == m, "batch \(batch) threads \(threads)")
            } } } }
        }
    }

    @Test func softmaxDoesNotOverflow() {
        var t = Tensor(shape: [1, 3], scalars: [1000, 1001, 999])
        Activation.softmax.apply(to: &t)
        #expect(t.scalars.allSatisfy { $0.isFinite })
        #expect(abs(t.scalars.reduce(0, +) - 1) < 1e-6)
    }

    @Test func flattenKeepsNHWCOrder() {
        let x = randomTensor([2, 3, 4, 5], seed: 50)
        let y = Flatten(name: "f").forward(x)
        #expect(y.shape == [2, 60])
        #expect(y.scalars == x.scalars)
    }
}

struct SequentialTests {
    func smallCNN() throws -> Sequential {
        let conv = Conv2D(name: "conv", inputChannels: 1, filters: 4, kernelSize: (3, 3), activation: .relu)
        conv.kernel.value = randomTensor(conv.kernel.shape, seed: 60)
        conv.bias!.value = randomTensor([4], seed: 61)
        let dense = Dense(name: "dense", inputUnits: 3 * 3 * 4, units: 10, activation: .softmax)
        dense.kernel.value = randomTensor(dense.kernel.shape, seed: 62)
        return try Sequential(name: "small", inputShape: [8, 8, 1], layers: [
            conv, MaxPooling2D(name: "pool"), Flatten(name: "flatten"), Dropout(name: "drop", rate: 0.5), dense,
        ])
    }

    /// Chunk sizes follow what forward keeps: a ReLU convolution fused with
    /// 2x2 pooling never materialises its full map; other pairs do.
    @Test func largestActivationCountsWhatForwardKeeps() throws {
        func model(_ activation: Activation, pool: (Int, Int)) throws -> Sequential {
            let conv = Conv2D(name: "c", inputChannels: 1, filters: 8, kernelSize: (3, 3), activation: activation)
            return try Sequential(name: "m", inputShape: [10, 10, 1],
                                  layers: [conv, MaxPooling2D(name: "p", poolSize: pool), Flatten(name: "f")])
        }
        #expect(try model(.relu, pool: (2, 2)).largestActivation == 4 * 4 * 8)
        #expect(try model(.relu, pool: (3, 3)).largestActivation == 8 * 8 * 8)
        #expect(try model(.linear, pool: (2, 2)).largestActivation == 8 * 8 * 8)
        let dense = try Sequential(name: "d", inputShape: [20], layers: [Dense(name: "d", inputUnits: 20, units: 5)])
        #expect(dense.largestActivation == 20)
        #expect(dense.defaultChunkSize == 32)
    }

    @Test func shapesAndParameterCount() throws {
        let m = try smallCNN()
        #expect(m.layerOutputShapes == [[6, 6, 4], [3, 3, 4], [36], [36], [10]])
        #expect(m.parameterCount == (9 * 4 + 4) + (36 * 10 + 10))
    }

    /// Batches split across threads give exactly what one forward pass gives.
    @Test func parallelPredictEqualsSingleForward() throws {
        let m = try smallCNN()
        let x = randomTensor([101, 8, 8, 1], seed: 63)
        let whole = m.forward(x)
        let parallel = try m.predict(x, chunkSize: 7)
        #expect(parallel.shape == whole.shape)
        for s in 0..<101 {
            let single = m.forward(x.batch(s..<(s + 1)))
            #expect(maxAbsDifference(single, parallel.batch(s..<(s + 1))) < 1e-6)
        }
        #expect(maxAbsDifference(whole, parallel) < 1e-6)
    }

    /// forward fuses Conv2D(relu) + MaxPooling2D (ReLU after the pooling);
    /// running the layers one by one must give exactly the same values,
    /// NaN included.
    @Test func fusedConvolutionAndPoolingEqualsLayerByLayer() throws {
        let m = try smallCNN()
        var x = randomTensor([5, 8, 8, 1], seed: 64)
        x.scalars[10] = .nan
        let fused = m.forward(x)
        let stepwise = m.layers.reduce(x) { $1.forward($0) }
        #expect(fused.shape == stepwise.shape)
        #expect(zip(fused.scalars, stepwise.scalars).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) })
        #expect(fused.scalars.contains { $0.isNaN })
    }

    @Test func rejectsMismatchedLayers() {
        let dense = Dense(name: "dense", inputUnits: 5, units: 2)
        #expect(throws: RuntimeError.self) { try Sequential(name: "bad", inputShape: [4], layers: [dense]) }
    }

    @Test func predictRejectsWrongInputShape() throws {
        let m = try smallCNN()
        #expect(throws: RuntimeError.self) { try m.predict(Tensor(zeros: [2, 7, 8, 1])) }
    }
}
