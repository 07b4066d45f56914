import Testing
import ModelPortRuntime
import TestSupport

/// Finite-difference checks of the remaining layers' backward passes
/// (shape, normalisation, advanced activations, depthwise/separable/
/// transposed convolutions, training-time noise layers, nested models),
/// with `FiniteDifferenceTests.check`.
extension FiniteDifferenceTests {
    @Test func globalPooling() {
        let distinct = Tensor(shape: [2, 3, 3, 2], scalars: (0..<36).map { Float(($0 * 17) % 36) / 7 })
        check(GlobalPooling2D(name: "gap", kind: .average), input: randomTensor([2, 3, 4, 3], seed: 20))
        check(GlobalPooling2D(name: "gap_keep", kind: .average, keepDims: true), input: randomTensor([2, 2, 3, 2], seed: 21))
        check(GlobalPooling2D(name: "gmp", kind: .max), input: distinct)
        check(GlobalPooling2D(name: "gmp_keep", kind: .max, keepDims: true), input: distinct)
    }

    @Test func globalMaxPoolingSplitsTiesLikeTensorFlow() {
        // TensorFlow's reduce_max gradient shares dy evenly among equal maxima.
        let layer = GlobalPooling2D(name: "gmp", kind: .max)
        let x = Tensor(shape: [1, 2, 2, 1], scalars: [3, 1, 3, 3])
        let (_, cache) = layer.forward(x, context: TrainingContext())
        let dx = layer.backward(Tensor(shape: [1, 1], scalars: [1.5]), cache: cache, gradients: Gradients(parameters: []))
        #expect(dx.scalars == [0.5, 0, 0.5, 0.5])
    }

    @Test func paddingCroppingUpSamplingPermuteRepeat() {
        check(Padding2D(name: "pad", kind: .zeroPad, top: 1, bottom: 0, left: 2, right: 1), input: randomTensor([2, 3, 3, 2], seed: 22))
        check(Padding2D(name: "crop", kind: .crop, top: 1, bottom: 1, left: 0, right: 2), input: randomTensor([2, 4, 5, 2], seed: 23))
        check(UpSampling2D(name: "up", size: (2, 3)), input: randomTensor([2, 2, 3, 2], seed: 24))
        check(UpSampling2D(name: "up_bilinear", size: (3, 2), interpolation: .bilinear), input: randomTensor([2, 3, 2, 2], seed: 46))
        check(Permute(name: "perm", dims: [2, 3, 1]), input: randomTensor([2, 2, 3, 4], seed: 25))
        check(Permute(name: "swap", dims: [2, 1]), input: randomTensor([3, 2, 5], seed: 26))
        check(RepeatVector(name: "rep", count: 3), input: randomTensor([2, 4], seed: 27))
    }

    @Test func normalizationLayers() {
        check(LayerNormalization(name: "ln", features: 4), input: randomTensor([3, 2, 4], seed: 28), tolerance: 3e-2)
        check(LayerNormalization(name: "ln_plain", features: 5, scale: false, center: false), input: randomTensor([4, 5], seed: 29), tolerance: 3e-2)
        check(Rescaling(name: "rescale", scale: 0.25, offset: 1), input: randomTensor([2, 3, 3, 2], seed: 30))
        check(UnitNormalization(name: "unit_norm"), input: randomTensor([2, 3, 4], seed: 47), tolerance: 3e-2)
        let norm = Normalization(name: "norm", features: 3)
        norm.mean.value = Tensor(shape: [3], scalars: [0.5, -1, 2])
        norm.variance.value = Tensor(shape: [3], scalars: [4, 0.25, 0])
        check(norm, input: randomTensor([2, 2, 3], seed: 31))
    }

    @Test func activationLayers() {
        // Inputs kept off the kinks by more than the finite-difference step.
        func offKinks(_ t: Tensor, kinks: [Float]) -> Tensor {
            var t = t
            for i in 0..<t.count { for k in kinks where abs(t.scalars[i] - k) < 0.05 { t.scalars[i] = k + 0.1 } }
            return t
        }
        let x = randomTensor([2, 3, 4], seed: 32)
        check(ReLU(name: "relu"), input: offKinks(x, kinks: [0]))
        check(ReLU(name: "relu_all", maxValue: 0.6, negativeSlope: 0.1, threshold: 0.2), input: offKinks(x, kinks: [0.2, 0.6]))
        check(ReLU(name: "leaky", negativeSlope: 0.3, kind: .leaky), input: offKinks(x, kinks: [0]))
        check(ELU(name: "elu", alpha: 0.7), input: offKinks(x, kinks: [0]))
        check(PReLU(name: "prelu", inputShape: [3, 4], sharedAxes: [1]), input: offKinks(x, kinks: [0]))
        check(PReLU(name: "prelu_all", inputShape: [3, 4]), input: offKinks(x, kinks: [0]))
        check(Softmax(name: "softmax_0", axis: 0), input: x)
        check(Softmax(name: "softmax_1", axis: 1), input: x)
    }

    @Test func depthwiseSeparableTransposed() {
        check(DepthwiseConv2D(name: "dw", inputChannels: 2, depthMultiplier: 2, kernelSize: (3, 2), strides: (2, 1),
                              padding: .same, activation: .tanh), input: randomTensor([2, 5, 4, 2], seed: 33))
        check(DepthwiseConv2D(name: "dw_dilated", inputChannels: 3, kernelSize: (2, 2), dilation: (2, 2), useBias: false),
              input: randomTensor([1, 5, 5, 3], seed: 34))
        check(SeparableConv2D(name: "sep", inputChannels: 2, filters: 3, depthMultiplier: 2, kernelSize: (3, 3),
                              padding: .same, activation: .sigmoid), input: randomTensor([2, 4, 4, 2], seed: 35))
        check(SeparableConv2D(name: "sep_valid", inputChannels: 3, filters: 2, kernelSize: (2, 2), strides: (2, 2)),
              input: randomTensor([1, 5, 5, 3], seed: 36))
        check(Conv2DTranspose(name: "tconv", inputChannels: 2, filters: 3, kernelSize: (3, 3), strides: (2, 2),
                              padding: .same, activation: .swish), input: randomTensor([2, 3, 3, 2], seed: 37))
        // A Keras Conv2D with groups = channels: the depthwise computation on Keras's grouped kernel declaration.
        check(DepthwiseConv2D(name: "grouped", inputChannels: 3, depthMultiplier: 2, kernelSize: (3, 3), padding: .same,
                              groupedConvolutionLayout: true), input: randomTensor([2, 4, 4, 3], seed: 40))
        check(Conv2DTranspose(name: "tconv_valid", inputChannels: 3, filters: 2, kernelSize: (2, 3), strides: (1, 2), useBias: false),
              input: randomTensor([1, 3, 2, 3], seed: 38))
    }

    @Test func trainingTimeNoiseLayers() {
        let x = randomTensor([3, 4, 4, 5], seed: 39)
        for kind: InferenceIdentity.Kind in [.spatialDropout2D, .gaussianDropout, .gaussianNoise, .alphaDropout, .stochasticDepth] {
            check(InferenceIdentity(name: kind.rawValue, kind: kind, rate: 0.3), input: x)
            // The identity at inference.
            #expect(InferenceIdentity(name: kind.rawValue, kind: kind, rate: 0.3).forward(x, context: .inference).output == x)
        }
    }

    @Test func noiseLayerStatistics() {
        let n = 20000
        let ones = Tensor(shape: [1, n], scalars: .init(repeating: 1, count: n))
        let context = TrainingContext(training: true, seed: 5)
        func moments(_ t: Tensor) -> (mean: Double, variance: Double) {
            let m = t.scalars.reduce(0.0) { $0 + Double($1) } / Double(t.count)
            return (m, t.scalars.reduce(0.0) { $0 + (Double($1) - m) * (Double($1) - m) } / Double(t.count))
        }
        // GaussianNoise: + N(0, 0.5²).
        let noise = moments(InferenceIdentity(name: "gn", kind: .gaussianNoise, rate: 0.5).forward(ones, context: context).output)
        #expect(abs(noise.mean - 1) < 0.02 && abs(noise.variance - 0.25) < 0.02)
        // GaussianDropout(0.2): × N(1, 0.2/0.8).
        let gd = moments(InferenceIdentity(name: "gd", kind: .gaussianDropout, rate: 0.2).forward(ones, context: context).output)
        #expect(abs(gd.mean - 1) < 0.02 && abs(gd.variance - 0.25) < 0.02)
        // AlphaDropout keeps a standard normal input's mean 0 and variance 1.
        var normal = randomTensor([1, n], seed: 1)
        let z = InferenceIdentity(name: "gz", kind: .gaussianNoise, rate: 1)
        normal = z.forward(Tensor(zeros: [1, n]), context: context).output
        let ad = moments(InferenceIdentity(name: "ad", kind: .alphaDropout, rate: 0.3).forward(normal, context: context).output)
        #expect(abs(ad.mean) < 0.05 && abs(ad.variance - 1) < 0.06)
        // SpatialDropout2D drops whole channels, scales the rest by 1/(1 - rate).
        let image = Tensor(shape: [8, 3, 3, 50], scalars: .init(repeating: 1, count: 8 * 9 * 50))
        let sd = InferenceIdentity(name: "sd", kind: .spatialDropout2D, rate: 0.4).forward(image, context: context).output
        var dropped = 0
        for b in 0..<8 {
            for ch in 0..<50 {
                let values = (0..<9).map { sd.scalars[(b * 9 + $0) * 50 + ch] }
                #expect(values.allSatisfy { $0 == 0 } || values.allSatisfy { abs($0 - 1 / 0.6) < 1e-6 })
                if values[0] == 0 { dropped += 1 }
            }
        }
        #expect(abs(Double(dropped) / 400 - 0.4) < 0.08)
        // StochasticDepth drops whole samples (a residual branch), scales the rest by 1/(1 - rate).
        let branch = InferenceIdentity(name: "sdepth", kind: .stochasticDepth, rate: 0.25).forward(image, context: context).output
        var droppedSamples = 0
        for b in 0..<8 {
            let values = branch.sample(b)
            #expect(values.allSatisfy { $0 == 0 } || values.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
            if values.first == 0 { droppedSamples += 1 }
        }
        #expect(droppedSamples < 8)
    }

    @Test func applicationLayers() {
        let layerScale = LayerScale(name: "layer_scale", channels: 3, initialValue: 0.5)
        layerScale.gamma.value = randomTensor([3], seed: 41)
        check(layerScale, input: randomTensor([2, 2, 2, 3], seed: 42))
        // ScaledSum: dx0 = dY, dx1 = scale dY.
        let sum = ScaledSum(name: "scaled", scale: 0.17)
        let a = randomTensor([2, 3, 2], seed: 43), b = randomTensor([2, 3, 2], seed: 44), w = randomTensor([2, 3, 2], seed: 45)
        let (y, cache) = sum.forward(inputs: [a, b], context: TrainingContext())
        #expect(y.scalars == zip(a.scalars, b.scalars).map { $0 + 0.17 * $1 })
        let grads = sum.backward(inputsGradient: w, cache: cache, gradients: Gradients(parameters: []))
        #expect(grads[0] == w && grads[1].scalars == w.scalars.map { 0.17 * $0 })
    }

    @Test func activityRegularizationIsRefusedNamingTheLayer() throws {
        let model = try Sequential(name: "m", inputShape: [4], layers: [
            Dense(name: "d", inputUnits: 4, units: 2),
            InferenceIdentity(name: "act_reg", kind: .activityRegularization),
        ])
        #expect(throws: RuntimeError.self) { try TrainingGraph(model) }
        do { _ = try TrainingGraph(model) } catch let error as RuntimeError {
            #expect(error.message.contains("'act_reg' (ActivityRegularization)"))
        }
    }

    @Test func nestedModel() throws {
        let inner = try Sequential(name: "inner", inputShape: [3], layers: [
            Dense(name: "d1", inputUnits: 3, units: 4, activation: .tanh),
            LayerNormalization(name: "ln", features: 4),
            Dense(name: "d2", inputUnits: 4, units: 2),
        ])
        check(ModelLayer(model: inner, typeName: "Sequential"), input: randomTensor([3, 3], seed: 40), tolerance: 3e-2)
    }
}
